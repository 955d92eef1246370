//! "Sign in with Google" in the browser: `a#login-google` on the login page starts a sign-in at
//! the upstream provider (`GET /login/google`), which sends the browser back to
//! `GET /login/google/callback`; from there the sign-in goes on exactly as after a password
//! (consent, code, redirect), or, when the identity's email belongs to a user who must prove
//! themselves first, back to the login page, which then shows `#link-account`.
//!
//! The callback accepts only the `state` this browser's sealed cookie holds, once (SEC-64);
//! each callback counts against the sign-in limits of its IP; the provider's failures end on an
//! error page that says what happened without echoing what came back, and offers the way back
//! to the sign-in (REL-12).

use super::common::client_ip;
use super::flow::{
    After, OnPage, account_page, limited_message, page_resource, refusal, signed_in,
};
use crate::browser::federation::Pending;
use crate::browser::session::Current;
use crate::error::{AppError, PageError};
use crate::federation::{FederationError, Outcome, UpstreamError};
use crate::oauth::authorize::Params;
use crate::oauth::discovery::paths;
use crate::state::AppState;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use subtle::ConstantTimeEq;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page_resource(
        web::resource(paths::LOGIN_GOOGLE).route(web::get().to(start)),
        "GET, HEAD",
    ))
    .service(page_resource(
        web::resource(paths::LOGIN_GOOGLE_CALLBACK).route(web::get().to(callback)),
        "GET, HEAD",
    ));
}

const EXPIRED: &str = "This sign-in with Google has expired or was not started in this browser. Start again from the sign-in page.";
const UNAVAILABLE: &str = "Sign-in with Google is not available right now. Try again later, or sign in with your password.";
const NOT_VERIFIED: &str = "Google's answer could not be verified, so you have not been signed in. Try again, or sign in with your password.";
const CANCELLED: &str =
    "Sign-in with Google was cancelled or refused. You have not been signed in.";

fn not_configured() -> PageError {
    PageError::new(
        StatusCode::NOT_FOUND,
        "Not found",
        "Sign-in with Google is not offered here.",
    )
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// What a sign-in at the provider is for, read from `request=` or `next=` and checked as the
/// login form checks it: the authorization request validated again from scratch.
async fn target(
    state: &AppState,
    params: &Params,
) -> Result<Result<After, HttpResponse>, PageError> {
    let repeated = |_| PageError::bad_request("A parameter is repeated.");
    if let Some(next) = params.single("next").map_err(repeated)? {
        let next = account_page(next)
            .ok_or_else(|| PageError::bad_request("There is no such page to sign in to."))?;
        return Ok(Ok(After::Account(next)));
    }
    let raw = params
        .single("request")
        .map_err(repeated)?
        .ok_or_else(|| PageError::bad_request("Start signing in from an application."))?;
    match state
        .interaction
        .load_request(Params::parse(raw.as_bytes()))
        .await
    {
        Ok(request) => Ok(Ok(After::Authorize(Box::new(request)))),
        Err(loaded) => refusal(loaded, false).map(Err),
    }
}

/// `GET /login/google`: sends the browser to the provider with a fresh `state`, `nonce` and
/// PKCE challenge, kept in a cookie sealed for this browser's session.
async fn start(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let Some(federation) = &state.federation else {
        return Err(not_configured().into());
    };
    let params = Params::parse(req.query_string().as_bytes());
    let after = match target(&state, &params).await? {
        Ok(after) => after,
        Err(response) => return Ok(response),
    };
    let back = after.login_for().start_over(&state);
    let current = state.sessions.current(&req).await.on_page()?;
    let (current, session_cookie) = state.sessions.fresh_pre_login(current);
    let begin = match federation.begin().await {
        Ok(begin) => begin,
        Err(e) => {
            tracing::warn!(error = %e, "could not start a sign-in at the upstream provider");
            return Err(unavailable(back).into());
        }
    };
    let (request, next) = match &after {
        After::Authorize(request) => (Some(request.params.encode()), None),
        After::Account(next) => (None, Some((*next).to_owned())),
    };
    let pending = Pending {
        state: begin.state,
        nonce: begin.nonce,
        verifier: begin.verifier,
        request,
        next,
    };
    let Some(pending_cookie) =
        state
            .federation_cookies
            .pending_cookie(&pending, &current.session.id_hash, now())
    else {
        return Err(PageError::bad_request(
            "This sign-in request is too long to continue with Google. Sign in with your password.",
        )
        .with_back(back)
        .into());
    };
    let mut cookies: Vec<Cookie<'static>> = session_cookie.into_iter().collect();
    cookies.push(pending_cookie);
    Ok(crate::browser::pages::redirect(false, &begin.url, cookies))
}

fn unavailable(back: String) -> PageError {
    PageError::new(
        StatusCode::BAD_GATEWAY,
        "Sign-in with Google unavailable",
        UNAVAILABLE,
    )
    .with_back(back)
}

/// An error page that also clears the pending sign-in (it is used, or useless).
fn stop(state: &AppState, e: PageError) -> HttpResponse {
    let mut response = actix_web::ResponseError::error_response(&AppError::from(e));
    response
        .add_cookie(&state.federation_cookies.pending_removal())
        .ok();
    response
}

/// `GET /login/google/callback`: the provider's answer.
async fn callback(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let Some(federation) = &state.federation else {
        return Err(not_configured().into());
    };
    let params = Params::parse(req.query_string().as_bytes());
    let expired = || PageError::bad_request(EXPIRED);
    // The browser's own session, and the sign-in it started (SEC-64: another browser's state,
    // or none, is refused before anything else happens). A callback this browser did not ask
    // for leaves its own pending sign-in alone.
    let Some(current) = state.sessions.current(&req).await.on_page()? else {
        return Err(expired().into());
    };
    let Some(pending) = state
        .federation_cookies
        .pending(&req, &current.session.id_hash, now())
    else {
        return Err(expired().into());
    };
    let presented = match params.single("state") {
        Ok(Some(s)) if s.len() <= 512 => s,
        _ => return Err(expired().into()),
    };
    if !bool::from(presented.as_bytes().ct_eq(pending.state.as_bytes())) {
        return Err(expired().into());
    }
    // The sign-in it was for, validated again (the client may be gone meanwhile).
    let mut again = Vec::new();
    if let Some(request) = &pending.request {
        again.push(("request".to_owned(), request.clone()));
    }
    if let Some(next) = &pending.next {
        again.push(("next".to_owned(), next.clone()));
    }
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&again)
        .finish();
    let after = match target(&state, &Params::parse(encoded.as_bytes())).await {
        Ok(Ok(after)) => after,
        Ok(Err(response)) => return Ok(with_removal(&state, response)),
        Err(e) => return Ok(stop(&state, e)),
    };
    let back = after.login_for().start_over(&state);
    // Once only, even within the cookie's life.
    if !federation.claim_state(presented).await {
        return Ok(stop(&state, expired().with_back(back)));
    }
    let ip = client_ip(&req, &state);
    if let Err(wait) = federation.admit(ip).await {
        crate::metrics::sign_in("google", "limited");
        let (secs, message) = limited_message(wait);
        let e = PageError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in attempts",
            message,
        )
        .with_retry_after(secs)
        .with_back(back);
        return Ok(stop(&state, e));
    }
    if params.single("error").ok().flatten().is_some() {
        crate::metrics::sign_in("google", "failure");
        return Ok(stop(
            &state,
            PageError::new(StatusCode::FORBIDDEN, "Not signed in", CANCELLED).with_back(back),
        ));
    }
    let code = match params.single("code") {
        Ok(Some(code)) if !code.is_empty() && code.len() <= 2048 => code.to_owned(),
        _ => {
            return Ok(stop(
                &state,
                PageError::bad_request("The answer from Google carries no code.").with_back(back),
            ));
        }
    };
    let outcome = federation
        .finish(code, pending.verifier, pending.nonce)
        .await;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => {
            crate::metrics::sign_in("google", "error");
            return Ok(stop(&state, failed(e, back)));
        }
    };
    let user = match outcome {
        Outcome::SignIn(user) => user,
        Outcome::Refused(why) => {
            crate::metrics::sign_in("google", "failure");
            tracing::info!(reason = ?why, "upstream sign-in refused");
            return Ok(stop(
                &state,
                PageError::new(StatusCode::FORBIDDEN, "Not signed in", why.message())
                    .with_back(back),
            ));
        }
        Outcome::LinkWithPassword {
            issuer,
            subject,
            user_id,
            email,
        } => {
            crate::metrics::sign_in("google", "link_offered");
            return Ok(offer_link(
                &state,
                &current,
                &after,
                (issuer, subject, user_id),
                &email,
            ));
        }
    };
    crate::metrics::sign_in("google", "success");
    let (_, cookie) = state
        .sessions
        .sign_in(Some(&current), &user)
        .await
        .on_page()?;
    let cookies = vec![cookie, state.federation_cookies.pending_removal()];
    Ok(signed_in(&state, after, &user, cookies, false))
}

/// Back to the login page (the sign-in starts over there), which now says that the identity
/// will be linked to `email`'s account once its password is given (`#link-account`); the offer
/// travels in a cookie sealed for this browser's session.
fn offer_link(
    state: &AppState,
    current: &Current,
    after: &After,
    (issuer, subject, user_id): (String, String, String),
    email: &str,
) -> HttpResponse {
    let link = crate::browser::federation::PendingLink {
        issuer,
        subject,
        user_id,
        email: email.to_owned(),
    };
    let cookies = vec![
        state
            .federation_cookies
            .link_cookie(&link, &current.session.id_hash, now()),
        state.federation_cookies.pending_removal(),
    ];
    let to = after.login_for().start_over(state);
    crate::browser::pages::redirect(false, &to, cookies)
}

/// The page for a sign-in the provider's side failed: unavailable (502) or not verified (400).
fn failed(e: FederationError, back: String) -> PageError {
    match e {
        FederationError::Upstream(UpstreamError::Unavailable(reason)) => {
            tracing::warn!(%reason, "the upstream provider is unavailable");
            unavailable(back)
        }
        FederationError::Upstream(UpstreamError::Refused(reason)) => {
            tracing::warn!(%reason, "the upstream provider refused the code");
            PageError::new(StatusCode::FORBIDDEN, "Not signed in", CANCELLED).with_back(back)
        }
        FederationError::Upstream(UpstreamError::Invalid(reason)) => {
            tracing::warn!(%reason, "an upstream ID token failed verification");
            PageError::bad_request(NOT_VERIFIED).with_back(back)
        }
        FederationError::Store(e) => PageError::from(e).with_back(back),
    }
}

fn with_removal(state: &AppState, mut response: HttpResponse) -> HttpResponse {
    response
        .add_cookie(&state.federation_cookies.pending_removal())
        .ok();
    response
}
