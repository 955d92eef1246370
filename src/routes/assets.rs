//! The stylesheet and the form_post script, compiled into the binary.

use crate::browser::pages::{FORM_POST_SCRIPT, STYLESHEET};
use crate::oauth::discovery::paths;
use actix_web::http::header;
use actix_web::{HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(super::only(paths::STYLESHEET, super::Only::Get, || async {
        asset(STYLESHEET, "text/css; charset=utf-8")
    }))
    .service(super::only(
        paths::FORM_POST_SCRIPT,
        super::Only::Get,
        || async { asset(FORM_POST_SCRIPT, "text/javascript; charset=utf-8") },
    ));
}

fn asset(body: &'static str, content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}
