//! Thin HTTP handlers: parse, call one service, map the result.

mod common;
mod health;
mod revocation;
mod token;
mod userinfo;
mod well_known;

use actix_web::{HttpResponse, Resource, web};

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    well_known::configure(cfg);
    token::configure(cfg);
    userinfo::configure(cfg);
    revocation::configure(cfg);
}

/// A resource that answers GET (and HEAD) with `handler` and 405 with `Allow` to other methods.
fn get_only<F, Args>(path: &str, handler: F) -> Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler))
        .default_service(web::to(|| async {
            HttpResponse::MethodNotAllowed()
                .insert_header((actix_web::http::header::ALLOW, "GET, HEAD"))
                .finish()
        }))
}
