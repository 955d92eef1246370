//! What the OAuth endpoints share at the HTTP level: bounded form bodies, the `Authorization`
//! header, the client's address.

use crate::auth::rate_limit;
use crate::oauth::error::{OAuthError, Reason};
use crate::oauth::form::Form;
use crate::state::AppState;
use crate::store::Client;
use actix_web::http::header;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;
use std::net::{IpAddr, Ipv4Addr};

/// The largest form body accepted; real ones are a few hundred bytes.
const MAX_BODY: usize = 16 * 1024;

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
    payload: web::Payload,
) -> Result<web::BytesMut, OAuthError> {
    if !is_form(req) {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    read_body(req, payload).await
}

/// The raw body of a request, at most 16 KiB: every body irongate reads comes through here.
pub async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<web::BytesMut, OAuthError> {
    let too_large = || {
        OAuthError::invalid_request(format!("the body exceeds {MAX_BODY} bytes"))
            .with_reason(Reason::BodyTooLarge)
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
    let client = state
        .clients
        .authenticate(authorization(req), &form)
        .await?;
    tracing::Span::current().record("client_id", client.id.as_str());
    Ok((form, client))
}

pub fn authorization(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
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

/// A JSON body of type `T` (at most 16 KiB; an empty body is `{}` when `empty_ok`). A body that
/// does not fit is invalid input naming the member at fault (or `body`), answered as RFC 9457
/// problem details.
pub async fn json_body<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    empty_ok: bool,
) -> Result<T, crate::error::AppError> {
    use crate::admin::AdminError;
    let body = read_body(req, payload)
        .await
        .map_err(|_| AdminError::invalid("body", "the body could not be read (at most 16 KiB)"))?;
    let body: &[u8] = if body.is_empty() && empty_ok {
        b"{}"
    } else {
        &body
    };
    let mut json = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        // The path of the member the error is in; a missing or unknown member is named by
        // serde's message.
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = match path.as_str() {
            "." | "" => member_of(&inner.to_string()),
            other => other.split(['.', '[']).next().unwrap_or("body").to_owned(),
        };
        AdminError::invalid_member(plain_member(field), format!("invalid JSON body: {inner}"))
            .into()
    })
}

/// The member a serde message names ("missing field `name`"), else `body`.
fn member_of(message: &str) -> String {
    message.split('`').nth(1).unwrap_or("body").to_owned()
}

/// A member name as problem details show it: lowercase letters, digits and `_`, at most 64
/// characters; anything else (what a caller made up) is `body`.
fn plain_member(name: String) -> String {
    let plain = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain { name } else { "body".to_owned() }
}
