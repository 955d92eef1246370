//! UserInfo (OpenID Connect Core §5.3) and "log out everywhere": bearer-token endpoints.

use super::common::{is_form, read_body};
use super::extract::{authenticate, credential_header};
use super::{Only, only};
use crate::auth::principal::Principal;
use crate::config::Settings;
use crate::error::{AppError, BearerError, no_store};
use crate::oauth::discovery::paths;
use crate::oauth::error::Reason;
use crate::oauth::form::Form;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    cfg.service(
        super::resource(paths::USERINFO, "GET, HEAD, POST")
            .wrap(super::cors(settings))
            .route(web::get().to(get_userinfo))
            .route(web::post().to(post_userinfo)),
    )
    .service(only(paths::LOGOUT_ALL, Only::Post, post_logout_all));
}

async fn get_userinfo(
    caller: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    userinfo(&state, caller).await
}

/// POST takes the token from the header or, per RFC 6750 §2.2, from a form body; not both.
async fn post_userinfo(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let header_token = credential_header(&req)?;
    let body_token = if is_form(&req) {
        let body = read_body(&req, payload).await.map_err(|e| match e.reason {
            Reason::BodyTooLarge => BearerError::body_too_large(),
            _ => BearerError::invalid_request("the body could not be read"),
        })?;
        let form =
            Form::parse(&body).map_err(|_| BearerError::invalid_request("malformed form body"))?;
        form.get("access_token").map(str::to_owned)
    } else {
        None
    };
    let token = match (header_token, body_token.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(
                BearerError::invalid_request("use one way of sending the token, not two").into(),
            );
        }
        (Some(token), None) | (None, Some(token)) => token,
        (None, None) => return Err(BearerError::missing().into()),
    };
    let caller = authenticate(&state, token).await?;
    userinfo(&state, caller).await
}

async fn userinfo(state: &AppState, caller: Principal) -> Result<HttpResponse, AppError> {
    // Only a user's token with `openid` (CONTRACT: client_credentials → insufficient_scope).
    if caller.user_id().is_none() || !caller.has_scope("openid") {
        return Err(BearerError::insufficient_scope("openid").into());
    }
    let (with_email, with_profile) = (caller.has_scope("email"), caller.has_scope("profile"));
    let with_roles = caller.has_scope("roles");
    let authz = caller.authorization();
    let user = state.principals.current_user(caller).await?;
    let mut body = serde_json::Map::new();
    body.insert("sub".into(), user.id.into());
    if with_email {
        body.insert("email".into(), user.email.into());
        body.insert("email_verified".into(), user.email_verified.into());
    }
    if with_profile && let Some(name) = user.name {
        body.insert("name".into(), name.into());
    }
    // The same authorization claims as the ID token: as issued with the access token.
    if let Some(org) = authz.org_id.as_ref() {
        body.insert("org_id".into(), org.clone().into());
    }
    if with_roles {
        body.insert("roles".into(), authz.roles.into());
        if authz.org_id.is_some() {
            body.insert("org_roles".into(), authz.org_roles.into());
        }
    }
    Ok(no_store(HttpResponse::Ok()).json(body))
}

/// "Log out everywhere": the caller's own user token, issued to a first-party
/// (`--skip-consent`) client — a third-party application may not end the user's sessions with
/// every other client; every token and session of the user stops working (new security stamp),
/// every refresh token is revoked. 204 on success.
async fn post_logout_all(
    caller: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Some(user_id) = caller.user_id() else {
        return Err(BearerError::invalid_token("a user's access token is required").into());
    };
    // An API key (or a token exchanged for one) is never a first-party application's token.
    let exchanged = matches!(
        caller.credential(),
        crate::auth::principal::Credential::AccessToken(c) if c.api_key_id.is_some()
    );
    let first_party = match caller.client_id().filter(|_| !exchanged) {
        Some(client_id) => state
            .clients
            .find(client_id)
            .await
            .map_err(BearerError::from)?
            .is_some_and(|client| client.skip_consent),
        None => false,
    };
    if !first_party {
        return Err(BearerError::not_permitted(
            "only a first-party application may log the user out everywhere",
        )
        .into());
    }
    state
        .end_all
        .end_all(user_id, false)
        .await
        .map_err(BearerError::from)?;
    tracing::info!(user = %user_id, "logged out everywhere");
    Ok(no_store(HttpResponse::NoContent()).finish())
}
