use crate::error::no_store;
use crate::oauth::discovery::paths;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use std::time::Duration;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(super::only(paths::HEALTHZ, super::Only::Get, get_healthz))
        .service(super::only(paths::READYZ, super::Only::Get, get_readyz));
}

/// The process is up (liveness).
async fn get_healthz() -> HttpResponse {
    no_store(HttpResponse::Ok()).json(serde_json::json!({ "status": "ok" }))
}

/// The database answers within two seconds (readiness): otherwise 503, so a load balancer
/// sends traffic elsewhere; 503 too once the process is shutting down (REL-06).
async fn get_readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        return no_store(HttpResponse::ServiceUnavailable())
            .json(serde_json::json!({ "status": "draining" }));
    }
    let ready = tokio::time::timeout(Duration::from_secs(2), state.store.ping())
        .await
        .unwrap_or(false);
    if ready {
        no_store(HttpResponse::Ok()).json(serde_json::json!({ "status": "ready" }))
    } else {
        no_store(HttpResponse::ServiceUnavailable())
            .json(serde_json::json!({ "status": "unavailable", "database": "unreachable" }))
    }
}
