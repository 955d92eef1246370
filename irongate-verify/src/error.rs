//! Why a request is refused, answered as RFC 6750 says: 401 `invalid_token` or 403
//! `insufficient_scope` with `WWW-Authenticate: Bearer …` and a JSON body; 400
//! `invalid_request` for a malformed request; 503 while the verifier cannot tell (it has never
//! loaded the issuer's keys, or the revocation feed is stale): it fails closed, and says so.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// No credential at all (401, a bare `Bearer` challenge).
    #[error("no credential was presented")]
    Missing,
    /// A credential that is not (or no longer) good (401 `invalid_token`).
    #[error("{0}")]
    InvalidToken(String),
    /// A malformed request (400 `invalid_request`).
    #[error("{0}")]
    InvalidRequest(String),
    /// A good credential that does not allow this (403 `insufficient_scope`, with the scope
    /// needed when there is one).
    #[error("{description}")]
    Forbidden {
        scope: Option<String>,
        description: String,
    },
    /// The verifier cannot tell now (503, `Retry-After`).
    #[error("{0}")]
    Unavailable(String),
}

impl Rejection {
    pub fn invalid_token(description: impl Into<String>) -> Self {
        Rejection::InvalidToken(description.into())
    }

    /// 403 naming the scope (or permission) that would have allowed the request.
    pub fn insufficient_scope(scope: &str) -> Self {
        Rejection::Forbidden {
            scope: Some(scope.to_owned()),
            description: format!("the credential lacks {scope}"),
        }
    }

    /// 403 for what no scope grants (a role, an organization, ownership).
    pub fn forbidden(description: impl Into<String>) -> Self {
        Rejection::Forbidden {
            scope: None,
            description: description.into(),
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            Rejection::Missing => None,
            Rejection::InvalidToken(_) => Some("invalid_token"),
            Rejection::InvalidRequest(_) => Some("invalid_request"),
            Rejection::Forbidden { .. } => Some("insufficient_scope"),
            Rejection::Unavailable(_) => Some("temporarily_unavailable"),
        }
    }

    /// The `WWW-Authenticate` value (RFC 6750 §3); quotes and backslashes are never in it.
    fn challenge(&self) -> String {
        let clean = |s: &str| s.replace(['"', '\\'], "'");
        let mut value = String::from("Bearer");
        if let Some(code) = self.code().filter(|c| *c != "temporarily_unavailable") {
            value.push_str(&format!(" error=\"{code}\""));
            value.push_str(&format!(
                ", error_description=\"{}\"",
                clean(&self.to_string())
            ));
        }
        if let Rejection::Forbidden {
            scope: Some(scope), ..
        } = self
        {
            value.push_str(&format!(", scope=\"{}\"", clean(scope)));
        }
        value
    }
}

impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        match self {
            Rejection::Missing | Rejection::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Rejection::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Rejection::Forbidden { .. } => StatusCode::FORBIDDEN,
            Rejection::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Ok(challenge) = HeaderValue::from_str(&self.challenge()) {
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        if matches!(self, Rejection::Unavailable(_)) {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        let mut body = serde_json::json!({
            "error": self.code().unwrap_or("invalid_token"),
            "error_description": self.to_string(),
        });
        if let Rejection::Forbidden {
            scope: Some(scope), ..
        } = self
        {
            body["scope"] = scope.as_str().into();
        }
        response.json(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_carry_rfc_6750_challenges() {
        let r = Rejection::insufficient_scope("posts:write").error_response();
        assert_eq!(r.status(), 403);
        let challenge = r
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(challenge.starts_with("Bearer error=\"insufficient_scope\""));
        assert!(challenge.contains("scope=\"posts:write\""));
        let r = Rejection::invalid_token("bad \"quote\"").error_response();
        assert_eq!(r.status(), 401);
        assert!(
            !r.headers()
                .get(header::WWW_AUTHENTICATE)
                .unwrap()
                .to_str()
                .unwrap()
                .contains("\"quote\"")
        );
        let r = Rejection::Missing.error_response();
        assert_eq!(r.headers().get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
        assert_eq!(
            Rejection::Unavailable("x".into()).error_response().status(),
            503
        );
    }
}
