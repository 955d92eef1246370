//! Thin HTTP handlers: parse, call one service, map the result.

mod health;
mod well_known;

use actix_web::web;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    well_known::configure(cfg);
}
