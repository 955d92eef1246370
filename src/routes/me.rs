//! Self-service JSON API: the caller's own API keys (CONTRACT "API keys"). A user's access token
//! with the `api_keys` scope is required; an API key can never manage keys. Errors are RFC 9457
//! problem details naming the field.

use super::common::json_body;
use super::resource;
use crate::admin::ApiKeyInput;
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
