//! The signed-in user's own account pages: changing the password (SEC-60). Without a signed-in
//! session the page sends the browser to the login page, which brings it back.

use super::common::{client_ip, read_form_body};
use super::flow::{OnPage, limited_page, page_resource};
use crate::auth::account::{ChangeError, ChangeRequest};
use crate::auth::sign_in::SignInError;
use crate::browser::pages::{self, PasswordPage};
use crate::browser::session::Current;
use crate::error::{AppError, PageError};
use crate::oauth::discovery::paths;
use crate::oauth::form::Form;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

/// What the password form's CSRF token is bound to.
const PURPOSE: &str = "change-password";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page_resource(
        web::resource(paths::ACCOUNT_PASSWORD)
            .route(web::get().to(get_password))
            .route(web::post().to(post_password)),
        "GET, POST",
    ));
}

/// The signed-in session, if the request has one.
pub(super) async fn signed_in(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Option<Current>, PageError> {
    let current = state.sessions.current(req).await.on_page()?;
    Ok(current.filter(|c| c.user.is_some()))
}

/// To the login page, which comes back to the account page `next` after the sign-in.
pub(super) fn to_login(state: &AppState, next: &str) -> HttpResponse {
    let login = format!("{}?next={next}", state.settings.endpoint(paths::LOGIN));
    pages::redirect(false, &login, vec![])
}

fn form_page(current: &Current, status: StatusCode, error: Option<&str>) -> HttpResponse {
    let email = current.user.as_ref().map_or("", |u| u.email.as_str());
    let csrf = current.csrf_token(PURPOSE, "");
    pages::page(
        status,
        &PasswordPage {
            email,
            error,
            csrf_token: &csrf,
            changed: false,
        },
        vec![],
    )
}

async fn get_password(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    match signed_in(&state, &req).await? {
        Some(current) => Ok(form_page(&current, StatusCode::OK, None)),
        None => Ok(to_login(&state, paths::ACCOUNT_PASSWORD)),
    }
}

async fn post_password(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if state.sessions.from_another_site(&req) {
        return Err(PageError::forbidden().into());
    }
    let body = read_form_body(&req, payload).await.on_page()?;
    let form = Form::parse(&body).on_page()?;
    let Some(current) = signed_in(&state, &req).await? else {
        // The session ended while the form was open (or there never was one).
        return Ok(to_login(&state, paths::ACCOUNT_PASSWORD));
    };
    if !current.csrf_ok(form.get("csrf_token"), PURPOSE, "") {
        return Err(PageError::forbidden().into());
    }
    let Some(user) = current.user.clone() else {
        return Ok(to_login(&state, paths::ACCOUNT_PASSWORD));
    };
    let (old, new) = (
        form.get("current_password").unwrap_or(""),
        form.get("new_password").unwrap_or(""),
    );
    if old.is_empty() || new.is_empty() {
        let message = "Enter your current password and a new one.";
        return Ok(form_page(&current, StatusCode::BAD_REQUEST, Some(message)));
    }
    let device = state.sessions.presented_device(&req);
    let change = ChangeRequest {
        ip: client_ip(&req, &state),
        current: old.to_owned(),
        new: new.to_owned(),
        device_cookie: device.as_deref(),
    };
    let changed = match state.password_change.change(&user, change).await {
        Ok(changed) => changed,
        Err(ChangeError::WrongPassword) => {
            let message = "The current password is incorrect.";
            return Ok(form_page(&current, StatusCode::UNAUTHORIZED, Some(message)));
        }
        Err(ChangeError::Weak(reason)) => {
            let message = format!("The new password cannot be used: {reason}.");
            return Ok(form_page(&current, StatusCode::BAD_REQUEST, Some(&message)));
        }
        Err(ChangeError::SignIn(SignInError::Limited(wait))) => {
            return Ok(limited_page(wait, |status, message| {
                form_page(&current, status, Some(message))
            }));
        }
        Err(ChangeError::SignIn(e)) => return Err(PageError::from(e).into()),
        Err(ChangeError::Store(e)) => return Err(PageError::from(e).into()),
    };
    tracing::info!(user = %changed.id, "password changed; every other session ended");
    // Every session of the user ended with the stamp; this browser goes on in a new one.
    let (_, cookie) = state
        .sessions
        .sign_in(Some(&current), &changed)
        .await
        .on_page()?;
    // The new stamp voided every device cookie of the user: this browser gets a new one.
    let device = state
        .sessions
        .device_cookie(state.sign_in.device_cookie(&changed.email, &changed));
    Ok(pages::page(
        StatusCode::OK,
        &PasswordPage {
            email: &changed.email,
            error: None,
            csrf_token: "",
            changed: true,
        },
        vec![cookie, device],
    ))
}
