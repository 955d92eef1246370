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
        );
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
