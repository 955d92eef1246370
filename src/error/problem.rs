//! The face of JSON APIs: RFC 9457 problem details.

use super::no_store;
use crate::admin::AdminError;
use crate::store::StoreError;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;

pub(super) fn problem_status(e: &AdminError) -> StatusCode {
    match e {
        AdminError::NotFound(_) => StatusCode::NOT_FOUND,
        AdminError::Conflict(_) => StatusCode::CONFLICT,
        AdminError::Invalid { .. } => StatusCode::BAD_REQUEST,
        AdminError::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
        AdminError::Store(_) | AdminError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// RFC 9457 problem details; an unexpected error is logged with its chain and answered
/// opaquely.
pub(super) fn problem_response(status: StatusCode, e: &AdminError) -> HttpResponse {
    let mut body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
    });
    match e {
        AdminError::Unexpected(_) | AdminError::Store(_) => {
            tracing::error!(error = ?anyhow::anyhow!("{e}"), "an admin request failed");
        }
        AdminError::Invalid { field, .. } => {
            body["detail"] = e.to_string().into();
            body["field"] = field.as_ref().into();
        }
        other => body["detail"] = other.to_string().into(),
    }
    if let Some(id) = crate::telemetry::current_request_id() {
        body["request_id"] = id.into();
    }
    no_store(HttpResponse::build(status))
        .content_type("application/problem+json")
        .body(body.to_string())
}
