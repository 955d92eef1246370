//! What every request goes through first: a bound on the size of its headers (SEC-62: 431
//! beyond `MAX_HEADER_BYTES`, well under actix-web's own 128 KiB) and a correlation id (SEC-61)
//! that comes back as `X-Request-Id`, appears on error pages, and marks every log line written
//! while the request is handled (database and hashing work on the blocking pool included), so a
//! user's report can be matched with the log. Requests actix-web refuses before any service
//! sees them (a malformed request line, over 128 KiB of head) carry no id.

use crate::auth::secrets;
use crate::telemetry::{REQUEST_ID, with_request_id};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::StatusCode;
use actix_web::http::Uri;
use actix_web::http::header::HeaderValue;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};
use tracing::Instrument;

/// Routes see `//token` as `/token` (what actix-web's `NormalizePath` with `MergeOnly` did,
/// with a regex on every request; here a path without `//` costs one scan).
fn merge_slashes(req: &mut ServiceRequest) {
    let path = req.path();
    if !path.contains("//") {
        return;
    }
    let mut merged = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && merged.ends_with('/')) {
            merged.push(c);
        }
    }
    if let Some(query) = req.uri().query() {
        merged.push('?');
        merged.push_str(query);
    }
    let Ok(path_and_query) = merged.parse() else {
        return;
    };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = Some(path_and_query);
    if let Ok(uri) = Uri::from_parts(parts) {
        req.match_info_mut().get_mut().update(&uri);
        req.head_mut().uri = uri;
    }
}

/// The most header bytes (names, values and separators) a request may carry.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

pub async fn frame(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = std::time::Instant::now();
    merge_slashes(&mut req);
    let method = req.method().as_str().to_owned();
    let route = req.match_pattern();
    let id = secrets::random_token(9);
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        tracing::info!(id, header_bytes, "request headers too large");
        crate::metrics::request(route.as_deref(), &method, 431, started.elapsed());
        let response = HttpResponse::build(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
            .insert_header((REQUEST_ID, id))
            .content_type("text/plain; charset=utf-8")
            .body("Request header fields too large.");
        return Ok(req.into_response(response).map_into_right_body());
    }
    // At ERROR level so that the span is recorded whatever level the log is filtered to.
    // Route and status are filled in once known; the client, by the handlers that learn it.
    let span = tracing::error_span!(
        "request",
        id = %id,
        method = %method,
        route = tracing::field::Empty,
        status = tracing::field::Empty,
        client_id = tracing::field::Empty,
    );
    let outcome = with_request_id(id.clone(), next.call(req).instrument(span.clone())).await;
    let value = HeaderValue::from_str(&id).ok();
    match outcome {
        Ok(mut response) => {
            if let Some(value) = value {
                response.headers_mut().insert(REQUEST_ID, value);
            }
            // Recording formats the span's fields again: only for the line that shows them.
            if tracing::enabled!(tracing::Level::DEBUG) {
                span.record("route", route.as_deref().unwrap_or("unmatched"));
                span.record("status", response.status().as_u16());
                tracing::debug!(parent: &span, elapsed_ms = started.elapsed().as_millis() as u64, "request finished");
            }
            crate::metrics::request(
                route.as_deref(),
                &method,
                response.status().as_u16(),
                started.elapsed(),
            );
            Ok(response.map_into_left_body())
        }
        // An error from an inner service keeps its response, now carrying the id too.
        Err(e) => {
            let mut response = e.error_response();
            span.record("status", response.status().as_u16());
            let status = response.status().as_u16();
            crate::metrics::request(route.as_deref(), &method, status, started.elapsed());
            if let Some(value) = value {
                response.headers_mut().insert(REQUEST_ID, value);
            }
            Err(InternalError::from_response(e, response).into())
        }
    }
}
