//! UserInfo (OpenID Connect Core §5.3) and "log out everywhere": bearer-token endpoints.

use super::common::{
    BearerError, bearer_header, is_form, no_store, post_only, require_bearer, unavailable,
};
use crate::auth::secrets;
use crate::config::Settings;
use crate::ephemeral::UserStatus;
use crate::oauth::access::{self, Rejected};
use crate::oauth::discovery::paths;
use crate::oauth::form::Form;
use crate::oauth::tokens::stamp_digest;
use crate::startup::AppState;
use crate::store;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    cfg.service(
        web::resource(paths::USERINFO)
            .wrap(super::cors(settings))
            .route(web::get().to(get_userinfo))
            .route(web::post().to(post_userinfo))
            .default_service(web::to(|| async {
                HttpResponse::MethodNotAllowed()
                    .insert_header((header::ALLOW, "GET, HEAD, POST"))
                    .finish()
            })),
    )
    .service(post_only(paths::LOGOUT_ALL, post_logout_all));
}

async fn get_userinfo(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    // RFC 9700 §4.3.2 / SEC-41: a token in the query string is never looked at.
    match require_bearer(&req) {
        Ok(token) => userinfo(&state, token).await,
        Err(e) => e.response(),
    }
}

/// POST takes the token from the header or, per RFC 6750 §2.2, from a form body; not both.
async fn post_userinfo(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let header_token = match bearer_header(&req) {
        Ok(t) => t,
        Err(e) => return e.response(),
    };
    let body_token = if is_form(&req) {
        match Form::parse(&body) {
            Ok(form) => form.get("access_token").map(str::to_owned),
            Err(_) => return BearerError::invalid_request("malformed form body").response(),
        }
    } else {
        None
    };
    match (header_token, body_token) {
        (Some(_), Some(_)) => {
            BearerError::invalid_request("use one way of sending the token, not two").response()
        }
        (Some(token), None) => userinfo(&state, token).await,
        (None, Some(token)) => userinfo(&state, &token).await,
        (None, None) => BearerError::missing().response(),
    }
}

async fn userinfo(state: &AppState, token: &str) -> HttpResponse {
    let verified = match access::verify(state, token, true).await {
        Ok(v) => v,
        Err(e) => return rejected(e),
    };
    // Only a user's token with `openid` (CONTRACT: client_credentials → insufficient_scope).
    if verified.is_client_token() || !verified.has_scope("openid") {
        return BearerError::insufficient_scope("openid").response();
    }
    let (with_email, with_profile) = (verified.has_scope("email"), verified.has_scope("profile"));
    let Some(user) = verified.user else {
        return BearerError::invalid_token("the access token is invalid").response();
    };
    let mut body = serde_json::Map::new();
    body.insert("sub".into(), user.id.into());
    if with_email {
        body.insert("email".into(), user.email.into());
        body.insert("email_verified".into(), user.email_verified.into());
    }
    if with_profile && let Some(name) = user.name {
        body.insert("name".into(), name.into());
    }
    no_store(HttpResponse::Ok()).json(body)
}

fn rejected(e: Rejected) -> HttpResponse {
    match e {
        Rejected::Invalid(why) => BearerError::invalid_token(why).response(),
        Rejected::Unavailable => unavailable(),
    }
}

/// "Log out everywhere": the caller's own user token; every token and session of the user
/// stops working (new security stamp), every refresh token is revoked. 204 on success.
async fn post_logout_all(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let token = match require_bearer(&req) {
        Ok(token) => token,
        Err(e) => return e.response(),
    };
    let verified = match access::verify(&state, token, false).await {
        Ok(v) => v,
        Err(e) => return rejected(e),
    };
    if verified.is_client_token() {
        return BearerError::invalid_token("a user's access token is required").response();
    }
    let user_id = verified.claims.sub;
    let id = user_id.clone();
    let stamp = secrets::random_token(16);
    let status = UserStatus {
        active: true,
        stamp_digest: stamp_digest(&stamp),
    };
    let ended = state
        .store
        .run(move |c| store::end_all_sessions(c, &id, &stamp, false))
        .await;
    if let Err(e) = ended {
        tracing::error!(error = %e, "log out everywhere failed");
        return unavailable();
    }
    if let Err(e) = state.ephemeral.store_user(&user_id, &status).await {
        // Redis is down: nodes then read users from the database, which holds the new stamp.
        // Should Redis come back with the old entry, it expires within a minute.
        tracing::warn!(error = %e, "could not store the user's new status in Redis");
    }
    tracing::info!(user = %user_id, "logged out everywhere");
    no_store(HttpResponse::NoContent()).finish()
}
