//! `/admin/v1/clients`: list, register, read (never a secret), delete, rotate the secret.

use super::{Call, created, ok};
use crate::admin::listing::Listing;
use crate::admin::{ClientInput, CreatedClient, NewSecret};
use crate::error::AppError;
use actix_web::HttpResponse;
use serde::Deserialize;
use utoipa::ToSchema;

/// `POST /clients`: `client create`'s options as members.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    pub name: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub grant_types: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub skip_consent: bool,
    #[serde(default)]
    pub require_organization: bool,
}

#[utoipa::path(get, path = "/admin/v1/clients", tag = "clients",
    params(("limit" = Option<u32>, Query), ("after" = Option<String>, Query)),
    responses((status = 200, body = Listing<CreatedClient>), super::openapi::Errors))]
pub async fn list(call: Call) -> Result<HttpResponse, AppError> {
    let page = call.page()?;
    ok(&call.state.admin.list_clients(&page).await?)
}

#[utoipa::path(post, path = "/admin/v1/clients", tag = "clients", request_body = CreateClient,
    responses((status = 201, body = CreatedClient, description = "the secret appears here once"),
        super::openapi::Errors))]
pub async fn create(mut call: Call) -> Result<HttpResponse, AppError> {
    let b: CreateClient = call.body(false).await?;
    let input = ClientInput {
        name: b.name,
        redirect_uris: b.redirect_uris,
        post_logout_redirect_uris: b.post_logout_redirect_uris,
        public: b.public,
        grant_types: b.grant_types,
        scopes: b.scopes,
        skip_consent: b.skip_consent,
        require_organization: b.require_organization,
    };
    let client = call.state.admin.create_client(&input).await?;
    call.audit("client.create", &client.client_id);
    created(&client)
}

#[utoipa::path(get, path = "/admin/v1/clients/{id}", tag = "clients",
    params(("id" = String, Path)),
    responses((status = 200, body = CreatedClient, description = "never a secret"),
        super::openapi::Errors))]
pub async fn get(call: Call) -> Result<HttpResponse, AppError> {
    ok(&call.state.admin.client(&call.param("id")?).await?)
}

#[utoipa::path(delete, path = "/admin/v1/clients/{id}", tag = "clients",
    params(("id" = String, Path)),
    responses((status = 200, body = CreatedClient), super::openapi::Errors))]
pub async fn delete(call: Call) -> Result<HttpResponse, AppError> {
    let id = call.param("id")?;
    let client = call.state.admin.delete_client(&id).await?;
    call.state.clients.forget(&id);
    call.audit("client.delete", &id);
    ok(&client)
}

#[utoipa::path(post, path = "/admin/v1/clients/{id}/secret", tag = "clients",
    params(("id" = String, Path)),
    responses((status = 200, body = NewSecret, description = "the old secret no longer works"),
        super::openapi::Errors))]
pub async fn rotate_secret(call: Call) -> Result<HttpResponse, AppError> {
    let id = call.param("id")?;
    let secret = call.state.admin.rotate_client_secret(&id).await?;
    call.state.clients.forget(&id);
    call.audit("client.rotate_secret", &id);
    ok(&secret)
}
