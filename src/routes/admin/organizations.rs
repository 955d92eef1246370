//! `/admin/v1/organizations`: list, create, read, delete, and members with their roles.

use super::{Call, created, ok};
use crate::admin::MembershipRef;
use crate::admin::listing::Listing;
use crate::error::AppError;
use crate::store::{Organization, OrganizationListing};
use actix_web::HttpResponse;
use serde::Deserialize;
use utoipa::ToSchema;

/// `POST /organizations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganization {
    pub slug: String,
    pub name: String,
}

/// `PUT /organizations/{id}/members/{user_id}`: the member's roles there (they become a member
/// if they are not yet).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMember {
    #[serde(default)]
    pub roles: Vec<String>,
}

#[utoipa::path(get, path = "/admin/v1/organizations", tag = "organizations",
    params(("limit" = Option<u32>, Query), ("after" = Option<String>, Query)),
    responses((status = 200, body = Listing<OrganizationListing>), super::openapi::Errors))]
pub async fn list(call: Call) -> Result<HttpResponse, AppError> {
    let page = call.page()?;
    let mut all = call.state.admin.list_organizations().await?;
    all.sort_by(|a, b| a.id.cmp(&b.id));
    ok(&page.page_of(all, |o| &o.id))
}

#[utoipa::path(post, path = "/admin/v1/organizations", tag = "organizations",
    request_body = CreateOrganization,
    responses((status = 201, body = Organization), super::openapi::Errors))]
pub async fn create(mut call: Call) -> Result<HttpResponse, AppError> {
    let b: CreateOrganization = call.body(false).await?;
    let org = call
        .state
        .admin
        .create_organization(&b.slug, &b.name)
        .await?;
    call.audit("organization.create", &org.id);
    created(&org)
}

#[utoipa::path(get, path = "/admin/v1/organizations/{id}", tag = "organizations",
    params(("id" = String, Path, description = "id or slug")),
    responses((status = 200, body = OrganizationListing), super::openapi::Errors))]
pub async fn get(call: Call) -> Result<HttpResponse, AppError> {
    ok(&call
        .state
        .admin
        .organization_listing(&call.param("id")?)
        .await?)
}

#[utoipa::path(delete, path = "/admin/v1/organizations/{id}", tag = "organizations",
    params(("id" = String, Path, description = "id or slug")),
    responses((status = 200, body = OrganizationListing), super::openapi::Errors))]
pub async fn delete(call: Call) -> Result<HttpResponse, AppError> {
    let org = call
        .state
        .admin
        .delete_organization(&call.param("id")?)
        .await?;
    call.audit("organization.delete", &org.id);
    ok(&org)
}

#[utoipa::path(put, path = "/admin/v1/organizations/{id}/members/{user_id}",
    tag = "organizations", request_body = SetMember,
    params(("id" = String, Path, description = "id or slug"), ("user_id" = String, Path)),
    responses((status = 200, body = MembershipRef), super::openapi::Errors))]
pub async fn set_member(mut call: Call) -> Result<HttpResponse, AppError> {
    let b: SetMember = call.body(true).await?;
    let (org, user) = (call.param("id")?, call.param("user_id")?);
    let membership = call.state.admin.set_member(&org, &user, &b.roles).await?;
    call.audit(
        "organization.set_member",
        &format!("{}/{}", membership.org_id, user),
    );
    ok(&membership)
}

#[utoipa::path(delete, path = "/admin/v1/organizations/{id}/members/{user_id}",
    tag = "organizations",
    params(("id" = String, Path, description = "id or slug"), ("user_id" = String, Path)),
    responses((status = 200, body = MembershipRef), super::openapi::Errors))]
pub async fn remove_member(call: Call) -> Result<HttpResponse, AppError> {
    let (org, user) = (call.param("id")?, call.param("user_id")?);
    let membership = call.state.admin.end_membership(&org, &user).await?;
    call.audit(
        "organization.remove_member",
        &format!("{}/{}", membership.org_id, user),
    );
    ok(&membership)
}
