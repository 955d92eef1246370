//! The authorization endpoint (GET and POST). The authorization request travels through the
//! login and consent forms as a hidden field; each form's CSRF token is bound to the session
//! and to that exact request (see `login.rs`).

use super::common::read_form_body;
use super::flow::{
    LoginFor, LoginForm, OnPage, consent_page, continue_at_authorize, link_offered, login_page,
    organization_page, page_resource, refusal, respond,
};
use crate::browser::session::Current;
use crate::error::AppError;
use crate::oauth::authorize::{AuthorizationRequest, Params};
use crate::oauth::discovery::paths;
use crate::oauth::interaction::Step;
use crate::state::AppState;
use crate::store::StoreError;
use actix_web::{HttpRequest, HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page_resource(
        web::resource(paths::AUTHORIZE)
            .route(web::get().to(get_authorize))
            .route(web::post().to(post_authorize)),
        "GET, POST",
    ))
    .service(page_resource(
        web::resource(paths::LOGIN)
            .route(web::get().to(super::login::get_login))
            .route(web::post().to(super::login::post_login)),
        "GET, POST",
    ))
    .service(page_resource(
        web::resource(paths::CONSENT).route(web::post().to(super::login::post_consent)),
        "POST",
    ))
    .service(page_resource(
        web::resource(paths::ORGANIZATION).route(web::post().to(super::login::post_organization)),
        "POST",
    ));
}

async fn get_authorize(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let params = Params::parse(req.query_string().as_bytes());
    let request = match state.interaction.load_request(params).await {
        Ok(r) => r,
        Err(loaded) => return Ok(refusal(loaded, false)?),
    };
    let current = state.sessions.current(&req).await.on_page()?;
    Ok(proceed(&state, &req, request, current).await.on_page()?)
}

/// OpenID Connect Core §3.1.2.1: the same request, form-encoded in a POST body (SEC-11).
async fn post_authorize(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let body = read_form_body(&req, payload).await.on_page()?;
    // A cross-site POST carries no `SameSite=Lax` session cookie: continue as a top-level GET,
    // which does, once the request is known to be good (errors are answered right here).
    match state.interaction.load_request(Params::parse(&body)).await {
        Ok(request) => Ok(continue_at_authorize(&state, &request.params, vec![])),
        Err(loaded) => Ok(refusal(loaded, true)?),
    }
}

/// The authorization request is valid: sign in, consent, then the code, asking only for what
/// is missing (and asking nothing with `prompt=none`).
async fn proceed(
    state: &AppState,
    req: &HttpRequest,
    request: AuthorizationRequest,
    current: Option<Current>,
) -> Result<HttpResponse, StoreError> {
    let signed_in = current.as_ref().and_then(Current::signed_in);
    match state.interaction.decide(&request, signed_in).await? {
        Step::Respond(response) => Ok(respond(&response, false)),
        Step::SignIn => {
            let (current, cookie) = state.sessions.fresh_pre_login(current);
            let link = link_offered(state, req, &current);
            let prefill = link
                .clone()
                .or_else(|| request.login_hint.clone())
                .unwrap_or_default();
            let form = LoginForm {
                username: &prefill,
                link_email: link.as_deref(),
                ..LoginForm::blank(state)
            };
            Ok(login_page(
                LoginFor::Request(&request),
                &current,
                form,
                cookie.into_iter().collect(),
            ))
        }
        Step::ChooseOrganization(orgs) => match &current {
            Some(current) => Ok(organization_page(&request, current, orgs)),
            None => Err(no_session()),
        },
        // `decide` asks for consent or a code only when someone is signed in.
        Step::Consent(org) => match &current {
            Some(current) => Ok(consent_page(&request, current, org.map(|o| o.name))),
            None => Err(no_session()),
        },
        Step::Issue => {
            let signed_in = signed_in.ok_or_else(no_session)?;
            let response = state.interaction.issue_code(&request, signed_in).await?;
            Ok(respond(&response, false))
        }
    }
}

fn no_session() -> StoreError {
    StoreError::Unexpected(anyhow::anyhow!(
        "a consent or code step without a signed-in user"
    ))
}
