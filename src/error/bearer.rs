//! The face of bearer endpoints: RFC 6750 challenges.

use super::no_store;
use crate::auth::access::Rejected;
use crate::store::StoreError;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;

/// A refused bearer request (RFC 6750 §3).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{description}")]
pub struct BearerError {
    pub(super) status: StatusCode,
    /// None when no token was presented at all (§3.1: then no error code in the challenge).
    code: Option<&'static str>,
    description: &'static str,
    scope: Option<&'static str>,
    /// The check could not be made: 503, retry in a second, and no challenge.
    unavailable: bool,
}

impl BearerError {
    pub fn missing() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            None,
            "an access token is required",
        )
    }

    pub fn invalid_request(description: &'static str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            Some("invalid_request"),
            description,
        )
    }

    pub fn invalid_token(description: &'static str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, Some("invalid_token"), description)
    }

    pub fn insufficient_scope(scope: &'static str) -> Self {
        Self {
            scope: Some(scope),
            ..Self::new(
                StatusCode::FORBIDDEN,
                Some("insufficient_scope"),
                "the access token does not carry the required scope",
            )
        }
    }

    /// A valid token that may not do this (RFC 6750 §3.1: it needs higher privileges).
    pub fn not_permitted(description: &'static str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            description,
        )
    }

    /// A request whose body is larger than irongate reads (413, with the challenge).
    pub fn body_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("invalid_request"),
            "the body is too large",
        )
    }

    /// The token could not be checked (fail closed).
    pub fn unavailable() -> Self {
        Self {
            unavailable: true,
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                Some("temporarily_unavailable"),
                "the service is temporarily unavailable",
            )
        }
    }

    fn new(status: StatusCode, code: Option<&'static str>, description: &'static str) -> Self {
        Self {
            status,
            code,
            description,
            scope: None,
            unavailable: false,
        }
    }
}

/// `WWW-Authenticate: Bearer` with the error, and the same error as JSON.
pub(super) fn bearer_response(e: &BearerError) -> HttpResponse {
    let mut builder = no_store(HttpResponse::build(e.status));
    if e.unavailable {
        builder.insert_header((header::RETRY_AFTER, "1"));
    } else {
        let mut challenge = String::from("Bearer realm=\"irongate\"");
        if let Some(code) = e.code {
            challenge.push_str(&format!(
                ", error=\"{code}\", error_description=\"{}\"",
                e.description
            ));
        }
        if let Some(scope) = e.scope {
            challenge.push_str(&format!(", scope=\"{scope}\""));
        }
        builder.insert_header((header::WWW_AUTHENTICATE, challenge));
    }
    builder.json(serde_json::json!({
        "error": e.code.unwrap_or("invalid_token"),
        "error_description": e.description,
    }))
}

/// A refused token is answered per RFC 6750: `invalid_token`, or 503 when it could not be
/// checked.
impl From<Rejected> for BearerError {
    fn from(e: Rejected) -> Self {
        match e {
            Rejected::Invalid(why) => BearerError::invalid_token(why),
            Rejected::Unavailable => BearerError::unavailable(),
        }
    }
}

impl From<Rejected> for super::AppError {
    fn from(e: Rejected) -> Self {
        super::AppError::Bearer(e.into())
    }
}

impl From<StoreError> for BearerError {
    fn from(e: StoreError) -> Self {
        e.log("a bearer request could not be completed");
        BearerError::unavailable()
    }
}
