//! The login and consent forms of the authorization flow. Each comes back with the
//! authorization request it was rendered for, which is validated again from scratch; its CSRF
//! token must be the session's token for that exact request (SEC-52, SEC-53).

use super::common::{client_ip, read_form_body};
use super::flow::{LoginForm, OnPage, continue_at_authorize, login_page, refusal, respond};
use crate::auth::sign_in::SignInError;
use crate::browser::session::Current;
use crate::error::{AppError, PageError};
use crate::oauth::authorize::{AuthorizationRequest, AuthzError, Params, Response};
use crate::oauth::form::Form;
use crate::state::AppState;
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

/// A form that does not go on: an error page, or the refusal the client is sent.
enum Stop {
    Page(PageError),
    Respond(HttpResponse),
}

impl<E: Into<PageError>> From<E> for Stop {
    fn from(e: E) -> Self {
        Stop::Page(e.into())
    }
}

impl Stop {
    fn answer(self) -> Result<HttpResponse, AppError> {
        match self {
            Stop::Page(e) => Err(e.into()),
            Stop::Respond(response) => Ok(response),
        }
    }
}

/// Reads the form and accepts it only when its CSRF token is the session's token for `purpose`
/// over the request it carries (otherwise the 403 page, and nothing changes); then validates
/// that request again from scratch.
async fn checked(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    purpose: &str,
) -> Result<Checked, Stop> {
    if state.sessions.from_another_site(req) {
        return Err(PageError::forbidden().into());
    }
    let body = read_form_body(req, payload).await?;
    let form = Form::parse(&body)?;
    let raw = form.get("request").unwrap_or("");
    let current = state
        .sessions
        .current(req)
        .await?
        .filter(|c| c.csrf_ok(form.get("csrf_token"), purpose, raw))
        .ok_or_else(PageError::forbidden)?;
    let request = match state
        .interaction
        .load_request(Params::parse(raw.as_bytes()))
        .await
    {
        Ok(request) => request,
        Err(loaded) => {
            return Err(match refusal(loaded, true) {
                Ok(response) => Stop::Respond(response),
                Err(e) => Stop::Page(e),
            });
        }
    };
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
) -> Result<HttpResponse, AppError> {
    let Checked {
        form,
        current,
        request,
    } = match checked(&state, &req, payload, "login").await {
        Ok(c) => c,
        Err(stop) => return stop.answer(),
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
        let (shown, cookie) = state.sessions.fresh_pre_login(Some(current.clone()));
        login_page(&request, &shown, form, cookie.into_iter().collect())
    };
    if username.is_empty() || password.is_empty() {
        return Ok(again(
            StatusCode::BAD_REQUEST,
            "Enter your email and password.",
        ));
    }
    let ip = client_ip(&req, &state);
    let user = match state
        .sign_in
        .sign_in(ip, username, password.to_owned())
        .await
    {
        Ok(user) => user,
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
            return Ok(response);
        }
        Err(SignInError::Failed) => return Ok(again(StatusCode::UNAUTHORIZED, LOGIN_FAILED)),
        Err(e) => return Err(PageError::from(e).into()),
    };
    let (_, cookie) = state
        .sessions
        .sign_in(Some(&current), &user)
        .await
        .on_page()?;
    tracing::info!(user = %user.id, client = %request.client.id, "signed in");
    // OpenID Connect Core §3.1.2.3: a hint for another user than the one who just signed in
    // cannot be satisfied.
    if state
        .interaction
        .hint_names_someone_else(&request, &user.id)
    {
        let e = AuthzError::new(
            "login_required",
            "the signed-in user is not the one the id_token_hint names",
        );
        let response = Response::error(&request.target, &state.settings, &e);
        let mut answer = respond(&response, true);
        answer.add_cookie(&cookie).ok();
        return Ok(answer);
    }
    Ok(continue_at_authorize(
        &state,
        &request.params.after_sign_in(),
        vec![cookie],
    ))
}

pub async fn post_consent(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let c = match checked(&state, &req, payload, "consent").await {
        Ok(c) => c,
        Err(stop) => return stop.answer(),
    };
    let (form, current, request) = (c.form, c.current, c.request);
    let signed_in = current.signed_in().ok_or_else(PageError::forbidden)?;
    // The sign-in may have aged past `max_age` while the page was open: start over.
    if state.interaction.sign_in_again(&request, signed_in) {
        return Ok(continue_at_authorize(&state, &request.params, vec![]));
    }
    let response = match form.get("decision") {
        Some("allow") => {
            state
                .interaction
                .remember_consent(&request, signed_in.user_id)
                .await
                .on_page()?;
            state
                .interaction
                .issue_code(&request, signed_in)
                .await
                .on_page()?
        }
        Some("deny") => {
            let e = AuthzError::new("access_denied", "the user denied the request");
            Response::error(&request.target, &state.settings, &e)
        }
        _ => return Err(PageError::bad_request("Choose Allow or Deny.").into()),
    };
    Ok(respond(&response, true))
}
