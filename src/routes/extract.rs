//! Who is calling, as an actix extractor: the `Principal` behind `Authorization: Bearer` (an
//! access token or an API key) or `X-API-Key`, or the RFC 6750 refusal.

use crate::auth::principal::Principal;
use crate::domain::api_key::ApiKey;
use crate::error::{AppError, BearerError};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::Future;
use std::pin::Pin;

impl FromRequest for Principal {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        // RFC 9700 §4.3.2 / SEC-41: a token in the query string is never looked at.
        let token = credential_header(req).map(|t| t.map(str::to_owned));
        Box::pin(async move {
            let state = state.ok_or_else(BearerError::unavailable)?;
            let token = token?.ok_or_else(BearerError::missing)?;
            Ok(authenticate(&state, &token).await?)
        })
    }
}

/// Verifies a bearer token and says who presented it.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal, BearerError> {
    Ok(state.principals.authenticate(token).await?)
}

/// The credential of the request's headers: the bearer token of `Authorization`, or the API key
/// of `X-API-Key`; both at once are refused.
pub fn credential_header(req: &HttpRequest) -> Result<Option<&str>, BearerError> {
    let key = match req.headers().get("x-api-key") {
        None => None,
        Some(value) => {
            let value = value
                .to_str()
                .map_err(|_| BearerError::invalid_request("malformed X-API-Key header"))?
                .trim();
            if !ApiKey::looks_like(value) {
                return Err(BearerError::invalid_token("X-API-Key holds no API key"));
            }
            Some(value)
        }
    };
    match (req.headers().contains_key(header::AUTHORIZATION), key) {
        (true, Some(_)) => Err(BearerError::invalid_request(
            "send one credential: Authorization or X-API-Key, not both",
        )),
        (false, Some(key)) => Ok(Some(key)),
        (_, None) => bearer_header(req),
    }
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
