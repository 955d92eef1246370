//! The login and consent forms of the authorization flow. Each comes back with the
//! authorization request it was rendered for, which is validated again from scratch; its CSRF
//! token must be the session's token for that exact request (SEC-52, SEC-53).

use super::authorize::{
    LoginForm, bad_request, continue_at_authorize, forbidden, load_request, login_page, refusal,
    respond, unavailable, unreadable,
};
use super::common::{client_ip, read_form_body};
use crate::auth::sign_in::{SignInError, sign_in};
use crate::browser::session::{self, Current};
use crate::oauth::authorize::{AuthorizationRequest, AuthzError, Params, Response};
use crate::oauth::form::Form;
use crate::oauth::interaction;
use crate::startup::AppState;
use crate::store::StoreError;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

const LOGIN_FAILED: &str = "The email or password is incorrect.";

/// A login or consent form that came back: its fields, the session, and the authorization
/// request it carries.
struct Checked {
    form: Form,
    current: Current,
    request: AuthorizationRequest,
}

/// Reads the form and accepts it only when its CSRF token is the session's token for `purpose`
/// over the request it carries (otherwise the 403 page, and nothing changes); then validates
/// that request again from scratch.
async fn checked(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    purpose: &str,
) -> Result<Checked, HttpResponse> {
    if session::from_another_site(state, req) {
        return Err(forbidden(state));
    }
    let body = read_form_body(req, payload)
        .await
        .map_err(|e| unreadable(state, &e))?;
    let form = Form::parse(&body).map_err(|e| bad_request(state, &e.description))?;
    let raw = form.get("request").unwrap_or("");
    let current = session::current(state, req)
        .await
        .map_err(|e| unavailable(state, e))?
        .filter(|c| c.csrf_ok(form.get("csrf_token"), purpose, raw))
        .ok_or_else(|| forbidden(state))?;
    let request = load_request(state, Params::parse(raw.as_bytes()))
        .await
        .map_err(|loaded| refusal(state, loaded, true))?;
    Ok(Checked {
        form,
        current,
        request,
    })
}

pub async fn post_login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let Checked {
        form,
        current,
        request,
    } = match checked(&state, &req, payload, "login").await {
        Ok(c) => c,
        Err(response) => return response,
    };
    let username = form.get("username").unwrap_or("").trim();
    let password = form.get("password").unwrap_or("");
    let again = |status, error| {
        let form = LoginForm {
            status,
            error: Some(error),
            username,
        };
        // A form shown again gets a new pre-login cookie when the old one is half gone.
        let (shown, cookie) = session::fresh_pre_login(&state, Some(current.clone()));
        login_page(&state, &request, &shown, form, cookie.into_iter().collect())
    };
    if username.is_empty() || password.is_empty() {
        return again(StatusCode::BAD_REQUEST, "Enter your email and password.");
    }
    let ip = client_ip(&req, &state);
    match sign_in(&state, ip, username, password.to_owned()).await {
        Ok(user) => {
            let cookie = match session::sign_in(&state, Some(&current), &user).await {
                Ok((_, cookie)) => cookie,
                Err(e) => return unavailable(&state, e),
            };
            tracing::info!(user = %user.id, client = %request.client.id, "signed in");
            // OpenID Connect Core §3.1.2.3: a hint for another user than the one who just
            // signed in cannot be satisfied.
            if interaction::hint_names_someone_else(&state, &request, &user.id) {
                let e = AuthzError::new(
                    "login_required",
                    "the signed-in user is not the one the id_token_hint names",
                );
                let response = Response::error(&request.target, &state.settings, &e);
                let mut answer = respond(&state, &response, true);
                answer.add_cookie(&cookie).ok();
                return answer;
            }
            continue_at_authorize(&state, &request.params.after_sign_in(), vec![cookie])
        }
        Err(SignInError::Limited(wait)) => {
            let secs = crate::ephemeral::retry_after_secs(wait);
            let minutes = secs.div_ceil(60);
            let message = format!(
                "Too many sign-in attempts. Wait {minutes} minute{} and try again.",
                if minutes == 1 { "" } else { "s" }
            );
            let mut response = again(StatusCode::TOO_MANY_REQUESTS, &message);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            response
        }
        Err(SignInError::Failed) => again(StatusCode::UNAUTHORIZED, LOGIN_FAILED),
        Err(SignInError::Store(e)) => unavailable(&state, e),
        Err(SignInError::Internal(e)) => {
            tracing::error!(error = %e, "password verification failed");
            unavailable(&state, StoreError::Unexpected(e))
        }
    }
}

pub async fn post_consent(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let Checked {
        form,
        current,
        request,
    } = match checked(&state, &req, payload, "consent").await {
        Ok(c) => c,
        Err(response) => return response,
    };
    let Some(signed_in) = current.signed_in() else {
        return forbidden(&state);
    };
    // The sign-in may have aged past `max_age` while the page was open: start over.
    if interaction::sign_in_again(&state, &request, signed_in) {
        return continue_at_authorize(&state, &request.params, vec![]);
    }
    let result = match form.get("decision") {
        Some("allow") => {
            async {
                interaction::remember_consent(&state, &request, signed_in.user_id).await?;
                interaction::issue_code(&state, &request, signed_in).await
            }
            .await
        }
        Some("deny") => {
            let e = AuthzError::new("access_denied", "the user denied the request");
            Ok(Response::error(&request.target, &state.settings, &e))
        }
        _ => return bad_request(&state, "Choose Allow or Deny."),
    };
    match result {
        Ok(response) => respond(&state, &response, true),
        Err(e) => unavailable(&state, e),
    }
}
