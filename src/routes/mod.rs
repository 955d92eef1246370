//! Thin HTTP handlers: parse, call one service, map the result.

mod account;
mod account_keys;
pub mod admin;
mod assets;
mod authorize;
mod common;
mod extract;
mod flow;
pub mod frame;
mod google;
mod health;
mod login;
mod logout;
mod me;
mod revocation;
mod token;
mod userinfo;
mod well_known;

use crate::config::Settings;
use crate::error::no_store;
use actix_cors::Cors;
use actix_web::middleware::Condition;
use actix_web::{HttpResponse, Resource, web};

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    health::configure(cfg);
    well_known::configure(cfg, settings);
    token::configure(cfg, settings);
    userinfo::configure(cfg, settings);
    revocation::configure(cfg, settings);
    authorize::configure(cfg);
    google::configure(cfg);
    logout::configure(cfg);
    account::configure(cfg);
    account_keys::configure(cfg);
    me::configure(cfg);
    admin::configure(cfg);
    assets::configure(cfg);
}

/// CORS for the endpoints a browser application may call directly (token, userinfo,
/// introspection, revocation, JWKS, discovery), per `cors_origins`; none at all when the list is
/// empty, and never on the authorization endpoint or the pages (RFC 9700 §2.6, SEC-14). An
/// origin not on the list gets an answer without CORS headers, which the browser refuses.
pub fn cors(settings: &Settings) -> Condition<Cors> {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::ACCEPT,
        ])
        .expose_headers([
            actix_web::http::header::WWW_AUTHENTICATE,
            actix_web::http::header::RETRY_AFTER,
            crate::telemetry::REQUEST_ID,
        ])
        .block_on_origin_mismatch(false)
        .max_age(600);
    for origin in &settings.cors.origins {
        cors = if origin == "*" {
            cors.allow_any_origin().send_wildcard()
        } else {
            cors.allowed_origin(origin)
        };
    }
    if settings.cors.allow_credentials {
        cors = cors.supports_credentials();
    }
    Condition::new(!settings.cors.origins.is_empty(), cors)
}

/// A resource that answers 405 with `Allow` to the methods it does not route.
fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move || async move {
        no_store(HttpResponse::MethodNotAllowed())
            .insert_header((actix_web::http::header::ALLOW, allow))
            .finish()
    }))
}

/// The one method a resource answers.
#[derive(Clone, Copy)]
enum Only {
    /// GET, and HEAD with it.
    Get,
    Post,
}

/// A resource that answers one method with `handler`, and 405 with `Allow` to the others.
fn only<F, Args>(path: &str, method: Only, handler: F) -> Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    match method {
        Only::Get => resource(path, "GET, HEAD").route(web::get().to(handler)),
        Only::Post => resource(path, "POST").route(web::post().to(handler)),
    }
}
