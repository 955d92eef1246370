//! `/admin/v1/users`: list (`?email=`), create, read, update, delete, disable, log out
//! everywhere, roles, memberships, API keys.

use super::{Call, created, ok};
use crate::admin::listing::Listing;
use crate::admin::{
    ApiKeyListing, Changed, MembershipView, NewUserInput, UserRef, UserRoles, UserView,
};
use crate::error::{AppError, no_store};
use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /users`: `user create`'s options.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    pub name: Option<String>,
    /// Without one the user signs in only through federation.
    pub password: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Whether irongate knows the email is the user's (`--email-verified`).
    #[serde(default)]
    pub email_verified: bool,
}

/// `PATCH /users/{id}`: a new name (empty clears it), enabled or disabled.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub name: Option<String>,
    pub active: Option<bool>,
}

/// `PUT /users/{id}/roles`: the user's roles, globally or inside `org` (id or slug).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRoles {
    pub roles: Vec<String>,
    pub org: Option<String>,
}

/// What a change to a user's sessions answers: the user, and (when it happened) why other
/// nodes could not be told at once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangedUser {
    pub id: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl From<Changed> for ChangedUser {
    fn from(c: Changed) -> Self {
        Self {
            id: c.user.id,
            email: c.user.email,
            warning: c.unshared.map(|e| {
                format!("saved; Redis could not be told ({e}): other nodes see it within a minute")
            }),
        }
    }
}

#[utoipa::path(get, path = "/admin/v1/users", tag = "users",
    params(
        ("email" = Option<String>, Query, description = "only the user with this email"),
        ("limit" = Option<u32>, Query, description = "1 to 200, 50 by default"),
        ("after" = Option<String>, Query, description = "the `next` of the previous page"),
    ),
    responses((status = 200, body = Listing<UserView>), super::openapi::Errors))]
pub async fn list(call: Call) -> Result<HttpResponse, AppError> {
    let page = call.page()?;
    let email = call.query("email")?;
    ok(&call.state.admin.list_users(email.as_deref(), &page).await?)
}

#[utoipa::path(post, path = "/admin/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserRef), super::openapi::Errors))]
pub async fn create(mut call: Call) -> Result<HttpResponse, AppError> {
    let body: CreateUser = call.body(false).await?;
    let input = NewUserInput {
        email: body.email,
        name: body.name,
        roles: body.roles,
        password: body.password,
        email_verified: body.email_verified,
    };
    let user = call.state.admin.create_user(input.validate()?).await?;
    call.audit("user.create", &user.id);
    created(&user)
}

#[utoipa::path(get, path = "/admin/v1/users/{id}", tag = "users",
    params(("id" = String, Path)),
    responses((status = 200, body = UserView), super::openapi::Errors))]
pub async fn get(call: Call) -> Result<HttpResponse, AppError> {
    let user = call.state.admin.user(&call.param("id")?).await?;
    ok(&UserView::from(user))
}

#[utoipa::path(patch, path = "/admin/v1/users/{id}", tag = "users", request_body = UpdateUser,
    params(("id" = String, Path)),
    responses((status = 200, body = UserView), super::openapi::Errors))]
pub async fn update(mut call: Call) -> Result<HttpResponse, AppError> {
    let body: UpdateUser = call.body(false).await?;
    let id = call.param("id")?;
    let user = call
        .state
        .admin
        .update_user(&id, body.name.as_deref(), body.active)
        .await?;
    call.audit("user.update", &id);
    ok(&user)
}

#[utoipa::path(delete, path = "/admin/v1/users/{id}", tag = "users",
    params(("id" = String, Path)),
    responses((status = 200, body = UserRef), super::openapi::Errors))]
pub async fn delete(call: Call) -> Result<HttpResponse, AppError> {
    let id = call.param("id")?;
    let user = call.state.admin.delete_user(&id).await?;
    call.audit("user.delete", &id);
    ok(&user)
}

#[utoipa::path(post, path = "/admin/v1/users/{id}/disable", tag = "users",
    params(("id" = String, Path)),
    responses((status = 200, body = ChangedUser), super::openapi::Errors))]
pub async fn disable(call: Call) -> Result<HttpResponse, AppError> {
    let id = call.param("id")?;
    let changed = call.state.admin.end_user_sessions(&id, true).await?;
    call.audit("user.disable", &id);
    ok(&ChangedUser::from(changed))
}

#[utoipa::path(post, path = "/admin/v1/users/{id}/logout-all", tag = "users",
    params(("id" = String, Path)),
    responses((status = 200, body = ChangedUser), super::openapi::Errors))]
pub async fn logout_all(call: Call) -> Result<HttpResponse, AppError> {
    let id = call.param("id")?;
    let changed = call.state.admin.end_user_sessions(&id, false).await?;
    call.audit("user.logout_all", &id);
    ok(&ChangedUser::from(changed))
}

#[utoipa::path(put, path = "/admin/v1/users/{id}/roles", tag = "users", request_body = SetRoles,
    params(("id" = String, Path)),
    responses((status = 200, body = UserRoles), super::openapi::Errors))]
pub async fn set_roles(mut call: Call) -> Result<HttpResponse, AppError> {
    let body: SetRoles = call.body(false).await?;
    let id = call.param("id")?;
    let roles = call
        .state
        .admin
        .set_user_roles(&id, &body.roles, body.org.as_deref())
        .await?;
    call.audit("user.set_roles", &id);
    ok(&roles)
}

#[utoipa::path(get, path = "/admin/v1/users/{id}/memberships", tag = "users",
    params(("id" = String, Path), ("limit" = Option<u32>, Query), ("after" = Option<String>, Query)),
    responses((status = 200, body = Listing<MembershipView>), super::openapi::Errors))]
pub async fn memberships(call: Call) -> Result<HttpResponse, AppError> {
    let page = call.page()?;
    let mut all = call.state.admin.memberships(&call.param("id")?).await?;
    all.sort_by(|a, b| a.org_id.cmp(&b.org_id));
    ok(&page.page_of(all, |m| &m.org_id))
}

#[utoipa::path(get, path = "/admin/v1/users/{id}/api-keys", tag = "users",
    params(("id" = String, Path), ("limit" = Option<u32>, Query), ("after" = Option<String>, Query)),
    responses((status = 200, body = Listing<ApiKeyListing>), super::openapi::Errors))]
pub async fn api_keys(call: Call) -> Result<HttpResponse, AppError> {
    let page = call.page()?;
    let mut all = call.state.admin.user_api_keys(&call.param("id")?).await?;
    all.sort_by(|a, b| a.id.cmp(&b.id));
    ok(&page.page_of(all, |k| &k.id))
}

#[utoipa::path(delete, path = "/admin/v1/users/{id}/api-keys/{key_id}", tag = "users",
    params(("id" = String, Path), ("key_id" = String, Path)),
    responses((status = 204), super::openapi::Errors))]
pub async fn revoke_api_key(call: Call) -> Result<HttpResponse, AppError> {
    let (id, key) = (call.param("id")?, call.param("key_id")?);
    call.state.admin.revoke_user_api_key(&id, &key).await?;
    call.audit("api_key.revoke", &key);
    Ok(no_store(HttpResponse::NoContent()).finish())
}
