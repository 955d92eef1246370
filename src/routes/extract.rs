//! Who is calling, as an actix extractor: the `Principal` behind `Authorization: Bearer`, or
//! the RFC 6750 refusal.

use crate::auth::principal::Principal;
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
        let token = bearer_header(req).map(|t| t.map(str::to_owned));
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
