//! The OpenAPI 3.1 description of the admin API, generated from the handlers' annotations and
//! the types they take and answer (`utoipa`), served at `/admin/v1/openapi.json`. A test checks
//! that it describes every route of `ROUTES` and nothing else, and a snapshot shows its changes.

use super::{clients, keys, organizations, roles, users};
use serde::Serialize;
use std::sync::LazyLock;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// RFC 9457 problem details, as every error of the admin API answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDetails {
    /// `about:blank`
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: Option<String>,
    /// The member of the body (or the parameter) at fault, for 400.
    pub field: Option<String>,
    /// The `X-Request-Id` of the request, to find it in the logs.
    pub request_id: Option<String>,
}

/// The errors every admin route may answer.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum Errors {
    /// Invalid input; `field` names the member.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(#[to_schema] ProblemDetails),
    /// No credential, or not a valid one (`WWW-Authenticate: Bearer`).
    #[response(status = 401)]
    Unauthorized,
    /// The credential lacks `irongate:admin` (or `irongate:read` for GET).
    #[response(status = 403)]
    Forbidden,
    /// No such id.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(ProblemDetails),
    /// A duplicate (email, slug, role name) or a role cycle.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(ProblemDetails),
    /// The database is unavailable.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(ProblemDetails),
}

/// The bearer credential every route needs.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "irongate admin API",
        description = "The command line's operations over HTTP. Callers need `irongate:admin` \
            (or `irongate:read` for GET) in their access token's `permissions` (a user) or \
            `scope` (client_credentials). Lists answer `{\"items\": [...], \"next\": cursor}`.",
    ),
    paths(
        users::list, users::create, users::get, users::update, users::delete, users::disable,
        users::logout_all, users::set_roles, users::memberships, users::api_keys,
        users::revoke_api_key,
        clients::list, clients::create, clients::get, clients::delete, clients::rotate_secret,
        roles::list, roles::create, roles::get, roles::update, roles::delete,
        organizations::list, organizations::create, organizations::get, organizations::delete,
        organizations::set_member, organizations::remove_member,
        keys::list, keys::rotate,
    ),
    components(schemas(ProblemDetails)),
    modifiers(&Bearer),
    security(("bearer" = [])),
)]
pub struct AdminApi;

/// The document as JSON, built once.
pub fn document_json() -> String {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        AdminApi::openapi()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    });
    JSON.clone()
}
