use crate::config::Settings;
use crate::oauth::discovery::paths;
use crate::state::AppState;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use actix_web::{HttpResponse, web};
use bytes::Bytes;

pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    cfg.service(
        super::only(
            paths::OPENID_CONFIGURATION,
            super::Only::Get,
            get_openid_configuration,
        )
        .wrap(super::cors(settings)),
    )
    .service(
        super::only(paths::OAUTH_METADATA, super::Only::Get, get_oauth_metadata)
            .wrap(super::cors(settings)),
    )
    .service(super::only(paths::JWKS, super::Only::Get, get_jwks).wrap(super::cors(settings)));
}

async fn get_openid_configuration(state: web::Data<AppState>) -> HttpResponse {
    json(
        state.metadata.openid_configuration.clone(),
        "public, max-age=3600",
        "application/json",
    )
}

async fn get_oauth_metadata(state: web::Data<AppState>) -> HttpResponse {
    json(
        state.metadata.oauth_authorization_server.clone(),
        "public, max-age=3600",
        "application/json",
    )
}

/// Short caching: a rotated-in key must reach relying parties quickly (they also refetch on an
/// unknown `kid`).
async fn get_jwks(state: web::Data<AppState>) -> HttpResponse {
    json(state.keys.jwks(), "public, max-age=300", "application/json")
}

fn json(body: Bytes, cache: &'static str, content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .insert_header((CACHE_CONTROL, HeaderValue::from_static(cache)))
        .body(body)
}
