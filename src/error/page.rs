//! The face of browser-facing endpoints: an HTML error page with the page headers, quoting the
//! request id.

use crate::auth::sign_in::SignInError;
use crate::browser::pages;
use crate::oauth::error::{OAuthError, Reason};
use crate::store::StoreError;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};

/// A browser request that cannot go on: an error page with a title and a message (escaped like
/// everything else in a template), and the page headers.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{title}: {message}")]
pub struct PageError {
    pub(super) status: StatusCode,
    title: &'static str,
    message: String,
    retry_after: Option<u64>,
    allow: Option<&'static str>,
    back: Option<String>,
}

impl PageError {
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            title,
            message: message.into(),
            retry_after: None,
            allow: None,
            back: None,
        }
    }

    /// The page offers `back` (a link to where the interrupted sign-in can start again).
    pub fn with_back(mut self, back: String) -> Self {
        self.back = Some(back);
        self
    }

    /// With `Retry-After: secs`.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
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

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        e.log("a browser request could not be completed");
        PageError::unavailable()
    }
}

/// An administrative refusal met on a page: not found → 404, invalid or conflicting input → 400
/// with its message, anything else → 503 (logged).
impl From<crate::admin::AdminError> for PageError {
    fn from(e: crate::admin::AdminError) -> Self {
        use crate::admin::AdminError;
        match e {
            AdminError::NotFound(m) => PageError::new(StatusCode::NOT_FOUND, "Not found", m),
            AdminError::Invalid { message, .. } => PageError::bad_request(message),
            AdminError::Conflict(m) => PageError::bad_request(m),
            AdminError::Store(e) => PageError::from(e),
            AdminError::Unexpected(e) => {
                tracing::error!(error = ?e, "a browser request failed");
                PageError::unavailable()
            }
        }
    }
}

impl From<SignInError> for PageError {
    fn from(e: SignInError) -> Self {
        tracing::error!(error = %e, "a sign-in could not be completed");
        PageError::unavailable()
    }
}

pub(super) fn page_response(e: &PageError) -> HttpResponse {
    let mut response = pages::error(e.status, e.title, &e.message, e.back.as_deref());
    let headers = response.headers_mut();
    if let Some(secs) = e.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if let Some(allow) = e.allow {
        headers.insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    response
}
