//! Revocation (RFC 7009) and introspection (RFC 7662): client-authenticated form POSTs.

use super::common::authenticated_form;
use super::{Only, only};
use crate::config::Settings;
use crate::error::{AppError, no_store};
use crate::oauth::discovery::paths;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    cfg.service(only(paths::REVOCATION, Only::Post, post_revoke).wrap(super::cors(settings)))
        .service(
            only(paths::INTROSPECTION, Only::Post, post_introspect).wrap(super::cors(settings)),
        )
        .service(only(paths::REVOCATION_FEED, Only::Get, get_feed));
}

/// The revocation feed: confidential clients (HTTP Basic, as at introspection), `ETag` and
/// `If-None-Match` → 304, `Cache-Control: private, max-age=5`.
async fn get_feed(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let empty = crate::oauth::form::Form::parse(b"")?;
    let client = state
        .clients
        .authenticate(super::common::authorization(&req), &empty)
        .await?;
    if client.is_public {
        return Err(crate::oauth::error::OAuthError::new(
            crate::oauth::error::ErrorCode::InvalidClient,
            "the revocation feed is for confidential clients",
        )
        .into());
    }
    tracing::Span::current().record("client_id", client.id.as_str());
    let feed = state
        .revocation_feed
        .snapshot()
        .await
        .map_err(crate::oauth::error::OAuthError::from)?;
    let etag = feed.etag();
    let fresh = req
        .headers()
        .get(actix_web::http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((actix_web::http::header::ETAG, etag))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, max-age=5"));
    Ok(if fresh {
        response.finish()
    } else {
        response.json(feed)
    })
}

async fn post_revoke(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (form, client) = authenticated_form(&req, payload, &state).await?;
    state.revocation.revoke(&client, &form).await?;
    Ok(no_store(HttpResponse::Ok()).finish())
}

async fn post_introspect(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (form, client) = authenticated_form(&req, payload, &state).await?;
    let body = state.introspection.introspect(&client, &form).await?;
    Ok(no_store(HttpResponse::Ok()).json(body))
}
