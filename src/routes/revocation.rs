//! Revocation (RFC 7009) and introspection (RFC 7662): client-authenticated form POSTs.

use super::common::{authenticated_form, no_store, oauth_error, post_only};
use crate::config::Settings;
use crate::oauth::discovery::paths;
use crate::oauth::revocation;
use crate::startup::AppState;
use actix_web::{HttpRequest, HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    cfg.service(post_only(paths::REVOCATION, post_revoke).wrap(super::cors(settings)))
        .service(post_only(paths::INTROSPECTION, post_introspect).wrap(super::cors(settings)));
}

async fn post_revoke(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = match authenticated_form(&req, payload, &state).await {
        Ok((form, client)) => revocation::revoke(&state, &client, &form).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => no_store(HttpResponse::Ok()).finish(),
        Err(e) => oauth_error(&e),
    }
}

async fn post_introspect(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = match authenticated_form(&req, payload, &state).await {
        Ok((form, client)) => revocation::introspect(&state, &client, &form).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(body) => no_store(HttpResponse::Ok()).json(body),
        Err(e) => oauth_error(&e),
    }
}
