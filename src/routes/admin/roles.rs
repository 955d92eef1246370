//! `/admin/v1/roles`: list, create, read, update (each set given replaces it), delete.

use super::{Call, created, ok};
use crate::admin::RoleRef;
use crate::admin::listing::Listing;
use crate::error::AppError;
use crate::store::{RoleDef, RoleListing};
use actix_web::HttpResponse;
use serde::Deserialize;
use utoipa::ToSchema;

/// `POST /roles`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRole {
    pub name: String,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub inherits: Vec<String>,
}

/// `PATCH /roles/{name}`: each set given replaces the role's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRole {
    pub permissions: Option<Vec<String>>,
    pub inherits: Option<Vec<String>>,
}

#[utoipa::path(get, path = "/admin/v1/roles", tag = "roles",
    params(("limit" = Option<u32>, Query), ("after" = Option<String>, Query)),
    responses((status = 200, body = Listing<RoleListing>), super::openapi::Errors))]
pub async fn list(call: Call) -> Result<HttpResponse, AppError> {
    let page = call.page()?;
    let all = call.state.admin.list_roles().await?;
    ok(&page.page_of(all, |r| &r.name))
}

#[utoipa::path(post, path = "/admin/v1/roles", tag = "roles", request_body = CreateRole,
    responses((status = 201, body = RoleDef), super::openapi::Errors))]
pub async fn create(mut call: Call) -> Result<HttpResponse, AppError> {
    let b: CreateRole = call.body(false).await?;
    let role = call
        .state
        .admin
        .create_role(&b.name, &b.permissions, &b.inherits)
        .await?;
    call.audit("role.create", &role.name);
    created(&role)
}

#[utoipa::path(get, path = "/admin/v1/roles/{name}", tag = "roles",
    params(("name" = String, Path)),
    responses((status = 200, body = RoleListing), super::openapi::Errors))]
pub async fn get(call: Call) -> Result<HttpResponse, AppError> {
    ok(&call.state.admin.role(&call.param("name")?).await?)
}

#[utoipa::path(patch, path = "/admin/v1/roles/{name}", tag = "roles", request_body = UpdateRole,
    params(("name" = String, Path)),
    responses((status = 200, body = RoleDef), super::openapi::Errors))]
pub async fn update(mut call: Call) -> Result<HttpResponse, AppError> {
    let b: UpdateRole = call.body(false).await?;
    let name = call.param("name")?;
    let role = call
        .state
        .admin
        .update_role(&name, b.permissions.as_deref(), b.inherits.as_deref())
        .await?;
    call.audit("role.update", &name);
    ok(&role)
}

#[utoipa::path(delete, path = "/admin/v1/roles/{name}", tag = "roles",
    params(("name" = String, Path)),
    responses((status = 200, body = RoleRef), super::openapi::Errors))]
pub async fn delete(call: Call) -> Result<HttpResponse, AppError> {
    let name = call.param("name")?;
    let role = call.state.admin.delete_role(&name).await?;
    call.audit("role.delete", &name);
    ok(&role)
}
