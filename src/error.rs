//! The one error type that answers HTTP. Each face is the one its kind of endpoint owes its
//! caller: RFC 6749 §5.2 JSON for the OAuth endpoints, an RFC 6750 challenge for bearer
//! endpoints, an HTML page (quoting the request id) for browsers, and RFC 9457
//! `application/problem+json` for the JSON APIs. Handlers return `Result<_, AppError>` and never
//! build an error response themselves.

use crate::admin::AdminError;
use crate::browser::pages;
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
            AppError::Problem(e) => problem_status(e),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            AppError::OAuth(e) => oauth_response(status, e),
            AppError::Bearer(e) => bearer_response(e),
            AppError::Page(e) => page_response(e),
            AppError::Problem(e) => problem_response(status, e),
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

/// A refused bearer request (RFC 6750 §3).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{description}")]
pub struct BearerError {
    status: StatusCode,
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
fn bearer_response(e: &BearerError) -> HttpResponse {
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

/// A browser request that cannot go on: an error page with a title and a message (escaped like
/// everything else in a template), and the page headers.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{title}: {message}")]
pub struct PageError {
    status: StatusCode,
    title: &'static str,
    message: String,
    retry_after: Option<u64>,
    allow: Option<&'static str>,
}

impl PageError {
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            title,
            message: message.into(),
            retry_after: None,
            allow: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Invalid request", message)
    }

    /// A form whose CSRF token or origin is wrong (SEC-52): nothing changes.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Request refused",
            "This form has expired or did not come from this site. Go back to the application and start again.",
        )
    }

    pub fn unavailable() -> Self {
        Self {
            retry_after: Some(1),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
                "The service is temporarily unavailable. Try again in a moment.",
            )
        }
    }

    /// 405 with `Allow` (SEC-52: no state change on GET).
    pub fn method_not_allowed(allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "This address does not accept that kind of request.",
            )
        }
    }
}

/// A form body that could not be read: too large (413) or not a form (400).
impl From<OAuthError> for PageError {
    fn from(e: OAuthError) -> Self {
        if e.reason == Reason::BodyTooLarge {
            PageError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request too large",
                e.description,
            )
        } else {
            PageError::bad_request(e.description)
        }
    }
}

impl From<crate::store::StoreError> for PageError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "a browser request could not be completed");
        PageError::unavailable()
    }
}

impl From<crate::auth::sign_in::SignInError> for PageError {
    fn from(e: crate::auth::sign_in::SignInError) -> Self {
        tracing::error!(error = %e, "a sign-in could not be completed");
        PageError::unavailable()
    }
}

/// A refused token is answered per RFC 6750: `invalid_token`, or 503 when it could not be
/// checked.
impl From<crate::auth::access::Rejected> for BearerError {
    fn from(e: crate::auth::access::Rejected) -> Self {
        match e {
            crate::auth::access::Rejected::Invalid(why) => BearerError::invalid_token(why),
            crate::auth::access::Rejected::Unavailable => BearerError::unavailable(),
        }
    }
}

impl From<crate::auth::access::Rejected> for AppError {
    fn from(e: crate::auth::access::Rejected) -> Self {
        AppError::Bearer(e.into())
    }
}

impl From<crate::store::StoreError> for BearerError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "a bearer request could not be completed");
        BearerError::unavailable()
    }
}

fn page_response(e: &PageError) -> HttpResponse {
    let mut response = pages::error(e.status, e.title, &e.message);
    let headers = response.headers_mut();
    if let Some(secs) = e.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if let Some(allow) = e.allow {
        headers.insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    response
}

fn problem_status(e: &AdminError) -> StatusCode {
    match e {
        AdminError::NotFound(_) => StatusCode::NOT_FOUND,
        AdminError::Conflict(_) => StatusCode::CONFLICT,
        AdminError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AdminError::Store(crate::store::StoreError::Unavailable(_)) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        AdminError::Store(_) | AdminError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// RFC 9457 problem details; an unexpected error is logged with its chain and answered
/// opaquely.
fn problem_response(status: StatusCode, e: &AdminError) -> HttpResponse {
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
            body["field"] = (*field).into();
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
            field: "email",
            message: "is not an email address".into(),
        });
        let response = e.error_response();
        assert_eq!(response.status(), 422);
        assert_eq!(
            header(&response, header::CONTENT_TYPE),
            "application/problem+json"
        );
        let body = body_of(response);
        assert_eq!(
            (body["status"].as_u64(), body["field"].as_str()),
            (Some(422), Some("email"))
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
