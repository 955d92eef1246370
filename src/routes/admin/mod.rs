//! The admin REST API under `/admin/v1` (CONTRACT "Admin REST API"): the command line's
//! operations one for one, over the same admin services. Every route is one row of [`ROUTES`],
//! which registers it and which the OpenAPI document (`openapi.rs`) is checked against.
//!
//! The caller is the one `Principal` every bearer endpoint uses: an access token whose
//! `permissions` (a user) or `scope` (a client acting for itself) hold `irongate:admin`, or
//! `irongate:read` for GET; an API key acts with its permissions. Otherwise 401 or 403 with
//! `WWW-Authenticate` (RFC 6750). Errors are RFC 9457 problem details. Every change is an audit
//! event at INFO on the `irongate::audit` target: who, what, which, and the request id.

mod clients;
mod keys;
pub mod openapi;
mod organizations;
mod roles;
mod users;

use super::common::json_body;
use crate::admin::listing::PageRequest;
use crate::auth::principal::Principal;
use crate::error::{AppError, BearerError, no_store};
use crate::state::AppState;
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;
use serde::Serialize;

/// Everything under this prefix is the admin API.
pub const PREFIX: &str = "/admin/v1";
/// Full access.
pub const ADMIN: &str = "irongate:admin";
/// GET only.
pub const READ: &str = "irongate:read";

/// One admin request: who calls, and what they sent.
pub struct Call {
    pub req: HttpRequest,
    payload: Option<web::Payload>,
    pub state: web::Data<AppState>,
    pub caller: Principal,
}

impl Call {
    /// A path parameter (`{id}`); one with a control character names nothing (404).
    pub fn param(&self, name: &str) -> Result<String, AppError> {
        let value = self.req.match_info().get(name).unwrap_or("");
        if value.is_empty() || value.len() > 256 || value.chars().any(char::is_control) {
            return Err(crate::admin::AdminError::NotFound(format!("no such {name}")).into());
        }
        Ok(value.to_owned())
    }

    /// A query parameter; repeated → 400. (Unlike OAuth parameters, an empty value is a value:
    /// `?email=` is a bad email, not no filter.)
    pub fn query(&self, name: &'static str) -> Result<Option<String>, AppError> {
        let mut found = None;
        for (k, v) in url::form_urlencoded::parse(self.req.query_string().as_bytes()) {
            if k == name {
                if found.is_some() {
                    return Err(crate::admin::AdminError::invalid(
                        name,
                        format!("{name} is repeated"),
                    )
                    .into());
                }
                found = Some(v.into_owned());
            }
        }
        Ok(found)
    }

    /// `?limit=` and `?after=`.
    pub fn page(&self) -> Result<PageRequest, AppError> {
        let (limit, after) = (self.query("limit")?, self.query("after")?);
        Ok(PageRequest::parse(limit.as_deref(), after.as_deref())?)
    }

    /// The JSON body (`{}` when empty and `empty_ok`).
    pub async fn body<T: serde::de::DeserializeOwned>(
        &mut self,
        empty_ok: bool,
    ) -> Result<T, AppError> {
        let payload = self
            .payload
            .take()
            .ok_or_else(|| crate::admin::AdminError::invalid("body", "the body was read"))?;
        json_body(&self.req, payload, empty_ok).await
    }

    /// Who is calling, as audit events name them: `user:ID`, `client:ID`, or `api_key:ID` (and
    /// the client that exchanged it, for an exchanged token).
    fn actor(&self) -> String {
        use crate::auth::principal::Credential;
        match (&self.caller, self.caller.credential()) {
            (_, Credential::ApiKey(key)) => format!("api_key:{}", key.id),
            (_, Credential::AccessToken(claims)) if claims.api_key_id.is_some() => format!(
                "api_key:{} via client:{}",
                claims.api_key_id.as_deref().unwrap_or(""),
                claims.client_id
            ),
            (Principal::User { user_id, .. }, _) => format!("user:{user_id}"),
            (Principal::Client { client_id, .. }, _) => format!("client:{client_id}"),
        }
    }

    /// Records a change: who did `action` to `target`.
    pub fn audit(&self, action: &'static str, target: &str) {
        tracing::info!(
            target: "irongate::audit",
            actor = %self.actor(),
            action,
            resource = target,
            request_id = crate::telemetry::current_request_id().as_deref().unwrap_or(""),
            "admin change"
        );
    }
}

/// A JSON answer (no-store).
pub fn json<T: Serialize>(status: actix_web::http::StatusCode, body: &T) -> HttpResponse {
    no_store(HttpResponse::build(status)).json(body)
}

pub fn ok<T: Serialize>(body: &T) -> Result<HttpResponse, AppError> {
    Ok(json(actix_web::http::StatusCode::OK, body))
}

pub fn created<T: Serialize>(body: &T) -> Result<HttpResponse, AppError> {
    Ok(json(actix_web::http::StatusCode::CREATED, body))
}

type Handler = fn(Call) -> LocalBoxFuture<'static, Result<HttpResponse, AppError>>;

/// One route of the admin API.
pub struct Route {
    pub method: Method,
    /// Under [`PREFIX`], as OpenAPI writes it (`/users/{id}`).
    pub path: &'static str,
    handler: Handler,
}

macro_rules! route {
    ($method:ident, $path:literal, $handler:path) => {
        Route {
            method: Method::$method,
            path: $path,
            handler: |call| Box::pin($handler(call)),
        }
    };
}

/// Every route of the admin API.
pub static ROUTES: &[Route] = &[
    route!(GET, "/users", users::list),
    route!(POST, "/users", users::create),
    route!(GET, "/users/{id}", users::get),
    route!(PATCH, "/users/{id}", users::update),
    route!(DELETE, "/users/{id}", users::delete),
    route!(POST, "/users/{id}/disable", users::disable),
    route!(POST, "/users/{id}/logout-all", users::logout_all),
    route!(PUT, "/users/{id}/roles", users::set_roles),
    route!(GET, "/users/{id}/memberships", users::memberships),
    route!(GET, "/users/{id}/api-keys", users::api_keys),
    route!(
        DELETE,
        "/users/{id}/api-keys/{key_id}",
        users::revoke_api_key
    ),
    route!(GET, "/clients", clients::list),
    route!(POST, "/clients", clients::create),
    route!(GET, "/clients/{id}", clients::get),
    route!(DELETE, "/clients/{id}", clients::delete),
    route!(POST, "/clients/{id}/secret", clients::rotate_secret),
    route!(GET, "/roles", roles::list),
    route!(POST, "/roles", roles::create),
    route!(GET, "/roles/{name}", roles::get),
    route!(PATCH, "/roles/{name}", roles::update),
    route!(DELETE, "/roles/{name}", roles::delete),
    route!(GET, "/organizations", organizations::list),
    route!(POST, "/organizations", organizations::create),
    route!(GET, "/organizations/{id}", organizations::get),
    route!(DELETE, "/organizations/{id}", organizations::delete),
    route!(
        PUT,
        "/organizations/{id}/members/{user_id}",
        organizations::set_member
    ),
    route!(
        DELETE,
        "/organizations/{id}/members/{user_id}",
        organizations::remove_member
    ),
    route!(GET, "/keys", keys::list),
    route!(POST, "/keys/rotate", keys::rotate),
];

/// Registers every route of [`ROUTES`] (one resource per path, 405 with `Allow` for other
/// methods) and the OpenAPI document.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = ROUTES.iter().map(|r| r.path).collect();
    paths.sort_unstable();
    paths.dedup();
    for path in paths {
        let routes: Vec<&'static Route> = ROUTES.iter().filter(|r| r.path == path).collect();
        let allow: String = routes
            .iter()
            .map(|r| r.method.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut resource = web::resource(format!("{PREFIX}{path}"));
        for route in &routes {
            let handler = route.handler;
            let method = route.method.clone();
            resource = resource.route(web::method(method.clone()).to(
                move |req: HttpRequest, payload: web::Payload, state: web::Data<AppState>| {
                    dispatch(req, payload, state, method.clone(), handler)
                },
            ));
        }
        let allow: &'static str = Box::leak(allow.into_boxed_str());
        cfg.service(resource.default_service(web::to(move || async move {
            no_store(HttpResponse::MethodNotAllowed())
                .insert_header((actix_web::http::header::ALLOW, allow))
                .finish()
        })));
    }
    cfg.service(
        super::resource(&format!("{PREFIX}/openapi.json"), "GET, HEAD").route(web::get().to(
            || async {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(openapi::document_json())
            },
        )),
    );
}

/// Authenticates and authorizes the caller (GET: read or admin; anything else: admin), then
/// runs the route's handler.
async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    method: Method,
    handler: Handler,
) -> Result<HttpResponse, AppError> {
    let token = super::extract::credential_header(&req)?.ok_or_else(BearerError::missing)?;
    let caller = super::extract::authenticate(&state, token).await?;
    let held = held_now(&state, &caller).await?;
    let reading = method == Method::GET;
    if !(held.admin || (reading && held.read)) {
        return Err(BearerError::insufficient_scope(if reading { READ } else { ADMIN }).into());
    }
    handler(Call {
        req,
        payload: Some(payload),
        state,
        caller,
    })
    .await
}

/// Which admin permissions the caller holds now.
struct Held {
    admin: bool,
    read: bool,
}

/// What the caller may do now, not when its credential was issued: a user's *global*
/// permissions as the database holds them (a role held inside an organization never reaches
/// the admin API, and a role taken away counts at once), within what the credential was
/// delegated (its `scope`); a token exchanged for an API key only while the key is live; a
/// client's token only while the client exists.
async fn held_now(state: &AppState, caller: &Principal) -> Result<Held, AppError> {
    use crate::auth::principal::Credential;
    let delegated = |p: &str| caller.has_scope(p);
    match caller {
        Principal::User { user_id, via, .. } => {
            if let Credential::AccessToken(claims) = via
                && let Some(key) = &claims.api_key_id
                && !state.admin.api_key_live(key).await?
            {
                return Err(BearerError::invalid_token("the API key was revoked").into());
            }
            let granted = state.admin.user_permissions(user_id).await?;
            let has = |p: &str| delegated(p) && granted.iter().any(|g| g == p);
            Ok(Held {
                admin: has(ADMIN),
                read: has(READ),
            })
        }
        Principal::Client { client_id, .. } => {
            match state.admin.client(client_id).await {
                Ok(_) => {}
                Err(crate::admin::AdminError::NotFound(_)) => {
                    return Err(BearerError::invalid_token("the client no longer exists").into());
                }
                Err(e) => return Err(e.into()),
            }
            Ok(Held {
                admin: delegated(ADMIN),
                read: delegated(READ),
            })
        }
    }
}
