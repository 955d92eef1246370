//! The caller as an actix-web extractor: the token from `Authorization: Bearer`, `X-API-Key`,
//! or the configured cookie; verified by the `Verifier` the app registered
//! (`App::app_data(web::Data::new(verifier))`); `X-Organization-ID`, when sent, must be the
//! token's organization. Every refusal is an RFC 6750 answer, never a 500.

use crate::caller::Caller;
use crate::error::Rejection;
use crate::verifier::Verifier;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

/// Where the credential came from.
enum Presented {
    Token(String),
    ApiKey(String),
}

/// The request's credential; both headers at once is a malformed request.
fn presented(req: &HttpRequest, cookie: Option<&str>) -> Result<Presented, Rejection> {
    let key = req
        .headers()
        .get("x-api-key")
        .map(|v| {
            v.to_str()
                .map(|s| s.trim().to_owned())
                .map_err(|_| Rejection::InvalidRequest("malformed X-API-Key header".into()))
        })
        .transpose()?;
    let bearer = match req.headers().get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value
                .to_str()
                .map_err(|_| Rejection::InvalidRequest("malformed Authorization header".into()))?;
            let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
            if !scheme.eq_ignore_ascii_case("bearer") {
                return Err(Rejection::Missing);
            }
            let token = token.trim();
            if token.is_empty() {
                return Err(Rejection::InvalidRequest(
                    "the bearer token is empty".into(),
                ));
            }
            Some(token.to_owned())
        }
    };
    match (bearer, key) {
        (Some(_), Some(_)) => Err(Rejection::InvalidRequest(
            "send one credential: Authorization or X-API-Key, not both".into(),
        )),
        (Some(token), None) if token.starts_with("igk_") => Ok(Presented::ApiKey(token)),
        (Some(token), None) => Ok(Presented::Token(token)),
        (None, Some(key)) => Ok(Presented::ApiKey(key)),
        (None, None) => cookie
            .and_then(|name| req.cookie(name))
            .map(|c| Presented::Token(c.value().to_owned()))
            .filter(|p| matches!(p, Presented::Token(t) if !t.is_empty()))
            .ok_or(Rejection::Missing),
    }
}

impl FromRequest for Caller {
    type Error = Rejection;
    type Future = LocalBoxFuture<'static, Result<Self, Rejection>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verifier = req.app_data::<web::Data<Verifier>>().cloned();
        // Sent twice it names no one organization: refused like a mismatch.
        let mut named = req.headers().get_all("x-organization-id");
        let org_header = match (named.next(), named.next()) {
            (None, _) => None,
            (Some(v), None) => Some(v.to_str().map(str::to_owned).map_err(|_| ())),
            (Some(_), Some(_)) => Some(Err(())),
        };
        let credential = verifier.as_ref().map(|v| presented(req, v.cookie_name()));
        Box::pin(async move {
            let Some(verifier) = verifier else {
                tracing::error!("no irongate_verify::Verifier is registered as app data");
                return Err(Rejection::Unavailable(
                    "the service cannot verify tokens".into(),
                ));
            };
            let caller = match credential.unwrap_or(Err(Rejection::Missing))? {
                Presented::Token(token) => verifier.verify(&token).await?,
                Presented::ApiKey(key) => verifier.verify_api_key(&key).await?,
            };
            match org_header {
                None => {}
                Some(Ok(org)) if caller.org_id.as_deref() == Some(org.as_str()) => {}
                Some(_) => {
                    return Err(Rejection::forbidden(
                        "X-Organization-ID is not the token's organization",
                    ));
                }
            }
            Ok(caller)
        })
    }
}
