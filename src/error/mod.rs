//! The one error type that answers HTTP. Each face is the one its kind of endpoint owes its
//! caller: RFC 6749 §5.2 JSON for the OAuth endpoints, an RFC 6750 challenge for bearer
//! endpoints, an HTML page (quoting the request id) for browsers, and RFC 9457
//! `application/problem+json` for the JSON APIs. Handlers return `Result<_, AppError>` and never
//! build an error response themselves.

mod bearer;
mod page;
mod problem;

pub use bearer::BearerError;
pub use page::PageError;

use crate::admin::AdminError;
use crate::oauth::error::{ErrorCode, OAuthError, Reason};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Token, revocation and introspection endpoints.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// Endpoints that take an access token.
    #[error(transparent)]
    Bearer(#[from] BearerError),
    /// Browser-facing endpoints.
    #[error(transparent)]
    Page(#[from] PageError),
    /// JSON APIs.
    #[error(transparent)]
    Problem(#[from] AdminError),
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::OAuth(e) => oauth_status(e),
            AppError::Bearer(e) => e.status,
            AppError::Page(e) => e.status,
            AppError::Problem(e) => problem::problem_status(e),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            AppError::OAuth(e) => oauth_response(status, e),
            AppError::Bearer(e) => bearer::bearer_response(e),
            AppError::Page(e) => page::page_response(e),
            AppError::Problem(e) => problem::problem_response(status, e),
        }
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1), for every answer that may
/// carry a token or say something about one.
pub fn no_store(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")));
    builder
}

fn oauth_status(e: &OAuthError) -> StatusCode {
    match (e.reason, e.code) {
        (Reason::TooManyAttempts(_), _) => StatusCode::TOO_MANY_REQUESTS,
        (Reason::BodyTooLarge, _) => StatusCode::PAYLOAD_TOO_LARGE,
        (_, ErrorCode::InvalidClient) => StatusCode::UNAUTHORIZED,
        (_, ErrorCode::ServerError) => StatusCode::INTERNAL_SERVER_ERROR,
        (_, ErrorCode::TemporarilyUnavailable) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// RFC 6749 §5.2 JSON, with `WWW-Authenticate: Basic` when Basic client authentication failed.
fn oauth_response(status: StatusCode, e: &OAuthError) -> HttpResponse {
    let mut builder = no_store(HttpResponse::build(status));
    match e.reason {
        Reason::BasicAuthFailed => {
            builder.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"irongate\""));
        }
        Reason::TooManyAttempts(secs) | Reason::RetryAfter(secs) => {
            builder.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        Reason::Plain | Reason::BodyTooLarge => {}
    }
    builder
        .json(serde_json::json!({ "error": e.code.as_str(), "error_description": e.description }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn header(response: &HttpResponse, name: header::HeaderName) -> &str {
        response.headers().get(name).unwrap().to_str().unwrap()
    }

    fn body_of(response: HttpResponse) -> serde_json::Value {
        let bytes = response.into_body().try_into_bytes().unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn oauth_errors_carry_their_rfc_6749_status_and_headers() {
        let e = AppError::from(
            OAuthError::new(ErrorCode::InvalidClient, "no").with_reason(Reason::BasicAuthFailed),
        );
        let response = e.error_response();
        assert_eq!(response.status(), 401);
        assert_eq!(
            header(&response, header::WWW_AUTHENTICATE),
            "Basic realm=\"irongate\""
        );
        assert_eq!(header(&response, header::CACHE_CONTROL), "no-store");
        assert_eq!(body_of(response)["error"], "invalid_client");
        let limited = AppError::from(
            OAuthError::new(ErrorCode::TemporarilyUnavailable, "wait")
                .with_reason(Reason::TooManyAttempts(60)),
        )
        .error_response();
        assert_eq!(limited.status(), 429);
        assert_eq!(header(&limited, header::RETRY_AFTER), "60");
    }

    #[test]
    fn bearer_errors_challenge_per_rfc_6750() {
        let missing = AppError::from(BearerError::missing()).error_response();
        assert_eq!(missing.status(), 401);
        assert_eq!(
            header(&missing, header::WWW_AUTHENTICATE),
            "Bearer realm=\"irongate\""
        );
        let scope = AppError::from(BearerError::insufficient_scope("openid")).error_response();
        assert_eq!(scope.status(), 403);
        let challenge = header(&scope, header::WWW_AUTHENTICATE);
        assert!(
            challenge.contains("error=\"insufficient_scope\"")
                && challenge.contains("scope=\"openid\"")
        );
        let down = AppError::from(BearerError::unavailable()).error_response();
        assert_eq!(down.status(), 503);
        assert!(down.headers().get(header::WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn admin_errors_are_problem_details_naming_the_field() {
        let e = AppError::from(AdminError::Invalid {
            field: "email".into(),
            message: "is not an email address".into(),
        });
        let response = e.error_response();
        assert_eq!(response.status(), 400);
        assert_eq!(
            header(&response, header::CONTENT_TYPE),
            "application/problem+json"
        );
        let body = body_of(response);
        assert_eq!(
            (body["status"].as_u64(), body["field"].as_str()),
            (Some(400), Some("email"))
        );
        let missing = AppError::from(AdminError::NotFound("no user with email a@b.c".into()));
        assert_eq!(missing.error_response().status(), 404);
        let unexpected = AppError::from(AdminError::Unexpected(anyhow::anyhow!("secret detail")));
        let body = body_of(unexpected.error_response());
        assert!(!body.to_string().contains("secret detail"));
    }

    #[test]
    fn error_pages_carry_allow_and_retry_after() {
        let page = AppError::from(PageError::method_not_allowed("GET, POST")).error_response();
        assert_eq!(page.status(), 405);
        assert_eq!(header(&page, header::ALLOW), "GET, POST");
        assert_eq!(header(&page, header::X_FRAME_OPTIONS), "DENY");
        let down = AppError::from(PageError::unavailable()).error_response();
        assert_eq!(header(&down, header::RETRY_AFTER), "1");
    }
}
