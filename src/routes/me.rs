//! Self-service JSON API: the caller's own API keys (CONTRACT "API keys"). A user's access token
//! with the `api_keys` scope is required; an API key can never manage keys. Errors are RFC 9457
//! problem details naming the field.

use super::common::read_body;
use super::resource;
use crate::admin::{AdminError, ApiKeyInput};
use crate::auth::principal::{Credential, Principal};
use crate::error::{AppError, BearerError, no_store};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

/// The scope a user's token needs here.
pub const API_KEYS_SCOPE: &str = "api_keys";
const KEYS: &str = "/api/v1/me/api-keys";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource(KEYS, "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(resource("/api/v1/me/api-keys/{id}", "DELETE").route(web::delete().to(revoke)))
    .service(resource("/api/v1/me/api-keys/{id}/rotate", "POST").route(web::post().to(rotate)));
}

/// The calling user, when the credential may manage keys.
fn owner(caller: &Principal) -> Result<String, AppError> {
    let from_a_key = match caller.credential() {
        Credential::ApiKey(_) => true,
        // A token exchanged for a key is that key's too.
        Credential::AccessToken(claims) => claims.api_key_id.is_some(),
    };
    if from_a_key {
        return Err(BearerError::not_permitted("an API key cannot manage API keys").into());
    }
    let Some(user) = caller.user_id() else {
        return Err(BearerError::not_permitted("a user's access token is required").into());
    };
    if !caller.has_scope(API_KEYS_SCOPE) {
        return Err(BearerError::insufficient_scope(API_KEYS_SCOPE).into());
    }
    Ok(user.to_owned())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
    expires_in: Option<u64>,
    organization: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateBody {
    grace: Option<u64>,
}

/// The JSON body (an empty body is `{}` where every field is optional).
async fn json_body<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    empty_ok: bool,
) -> Result<T, AppError> {
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
        // The path of the field the error is in; a missing field is named by serde's message.
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = match path.as_str() {
            "." | "" => field_of(&inner.to_string()),
            other => other.split(['.', '[']).next().unwrap_or("body").to_owned(),
        };
        AppError::from(AdminError::invalid(
            known_field(&field),
            format!("invalid JSON body: {inner}"),
        ))
    })
}

/// The body's fields by name; anything else (an unknown field, a syntax error) is `body`.
fn known_field(name: &str) -> &'static str {
    ["name", "scopes", "expires_in", "organization", "grace"]
        .into_iter()
        .find(|f| *f == name)
        .unwrap_or("body")
}

/// The field a serde message names ("missing field `name`"), else `body`.
fn field_of(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .filter(|f| f.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .unwrap_or("body")
        .to_owned()
}

async fn list(caller: Principal, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let user = owner(&caller)?;
    let keys = state.admin.list_api_keys(&user).await?;
    Ok(no_store(HttpResponse::Ok()).json(keys))
}

async fn create(
    caller: Principal,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let user = owner(&caller)?;
    let body: CreateBody = json_body(&req, payload, false).await?;
    let created = state
        .admin
        .create_api_key(
            &user,
            ApiKeyInput {
                name: body.name,
                scopes: body.scopes,
                expires_in: body.expires_in,
                organization: body.organization,
            },
        )
        .await?;
    Ok(no_store(HttpResponse::Created()).json(created))
}

async fn rotate(
    caller: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let user = owner(&caller)?;
    let body: RotateBody = json_body(&req, payload, true).await?;
    let rotated = state
        .admin
        .rotate_api_key(&id, body.grace, Some(&user))
        .await?;
    Ok(no_store(HttpResponse::Ok()).json(rotated))
}

async fn revoke(
    caller: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = owner(&caller)?;
    state.admin.revoke_api_key(&id, Some(&user)).await?;
    Ok(no_store(HttpResponse::NoContent()).finish())
}
