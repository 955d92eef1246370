//! What the OAuth endpoints share at the HTTP level: bounded form bodies, `no-store`, RFC 6749
//! §5.2 errors, RFC 6750 bearer errors, the client's address.

use crate::auth::rate_limit;
use crate::oauth::client_auth;
use crate::oauth::error::OAuthError;
use crate::oauth::form::Form;
use crate::startup::AppState;
use crate::store::Client;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use futures_util::StreamExt;
use std::net::{IpAddr, Ipv4Addr};

/// The largest form body accepted; real ones are a few hundred bytes.
const MAX_BODY: usize = 16 * 1024;

/// A resource answering POST with `handler` and 405 with `Allow` to anything else.
pub fn post_only<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::post().to(handler))
        .default_service(web::to(|| async {
            no_store(HttpResponse::MethodNotAllowed())
                .insert_header((header::ALLOW, "POST"))
                .finish()
        }))
}

pub fn is_form(req: &HttpRequest) -> bool {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    mime.eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// RFC 6749 §3.2: `application/x-www-form-urlencoded` only, bounded in size.
pub async fn read_form(req: &HttpRequest, payload: web::Payload) -> Result<Form, OAuthError> {
    Form::parse(&read_form_body(req, payload).await?)
}

/// The raw body of a form POST (`application/x-www-form-urlencoded`, at most 16 KiB).
pub async fn read_form_body(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<web::BytesMut, OAuthError> {
    if !is_form(req) {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let too_large = || {
        OAuthError::invalid_request(format!("the body exceeds {MAX_BODY} bytes")).with_status(413)
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| OAuthError::invalid_request("the body could not be read"))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The form of a client-authenticated endpoint (revocation, introspection) and its client.
pub async fn authenticated_form(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<(Form, Client), OAuthError> {
    let form = read_form(req, payload).await?;
    let client =
        client_auth::authenticate(&state.store, &state.clients, authorization(req), &form).await?;
    Ok((form, client))
}

pub fn authorization(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

pub fn no_store(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")));
    builder
}

/// RFC 6749 §5.2 JSON error, with `WWW-Authenticate: Basic` when Basic auth failed.
pub fn oauth_error(e: &OAuthError) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(e.status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    let mut builder = no_store(HttpResponse::build(status));
    if e.basic_challenge {
        builder.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"irongate\""));
    }
    if let Some(secs) = e.retry_after {
        builder.insert_header((header::RETRY_AFTER, secs.to_string()));
    }
    builder
        .json(serde_json::json!({ "error": e.code.as_str(), "error_description": e.description }))
}

/// A refused bearer request (RFC 6750 §3): `WWW-Authenticate: Bearer` with the error, and the
/// same error as JSON.
pub struct BearerError {
    status: u16,
    /// None when no token was presented at all (§3.1: then no error code in the challenge).
    code: Option<&'static str>,
    description: &'static str,
    scope: Option<&'static str>,
}

impl BearerError {
    pub fn missing() -> Self {
        Self {
            status: 401,
            code: None,
            description: "an access token is required",
            scope: None,
        }
    }

    pub fn invalid_request(description: &'static str) -> Self {
        Self {
            status: 400,
            code: Some("invalid_request"),
            description,
            scope: None,
        }
    }

    pub fn invalid_token(description: &'static str) -> Self {
        Self {
            status: 401,
            code: Some("invalid_token"),
            description,
            scope: None,
        }
    }

    pub fn insufficient_scope(scope: &'static str) -> Self {
        Self {
            status: 403,
            code: Some("insufficient_scope"),
            description: "the access token does not carry the required scope",
            scope: Some(scope),
        }
    }

    pub fn response(&self) -> HttpResponse {
        let mut challenge = String::from("Bearer realm=\"irongate\"");
        if let Some(code) = self.code {
            challenge.push_str(&format!(
                ", error=\"{code}\", error_description=\"{}\"",
                self.description
            ));
        }
        if let Some(scope) = self.scope {
            challenge.push_str(&format!(", scope=\"{scope}\""));
        }
        let status = actix_web::http::StatusCode::from_u16(self.status)
            .unwrap_or(actix_web::http::StatusCode::UNAUTHORIZED);
        no_store(HttpResponse::build(status))
            .insert_header((header::WWW_AUTHENTICATE, challenge))
            .json(serde_json::json!({
                "error": self.code.unwrap_or("invalid_token"),
                "error_description": self.description,
            }))
    }
}

/// 503 for a check that could not be made (fail closed).
pub fn unavailable() -> HttpResponse {
    no_store(HttpResponse::ServiceUnavailable())
        .insert_header((header::RETRY_AFTER, "1"))
        .json(serde_json::json!({
            "error": "temporarily_unavailable",
            "error_description": "the service is temporarily unavailable",
        }))
}

/// The bearer token of the `Authorization` header, required: the refusal otherwise.
pub fn require_bearer(req: &HttpRequest) -> Result<&str, BearerError> {
    bearer_header(req)?.ok_or_else(BearerError::missing)
}

/// The bearer token of the `Authorization` header (RFC 6750 §2.1), if one was sent.
pub fn bearer_header(req: &HttpRequest) -> Result<Option<&str>, BearerError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| BearerError::invalid_request("malformed Authorization header"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerError::missing());
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(BearerError::invalid_request("the bearer token is empty"));
    }
    Ok(Some(token))
}

/// The client's IP for rate limiting (see `rate_limit::client_ip`).
pub fn client_ip(req: &HttpRequest, state: &AppState) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    rate_limit::client_ip(peer, &forwarded, &state.settings.login.trusted_proxies)
}
