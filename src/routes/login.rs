//! The login and consent forms of the authorization flow. Each comes back with the
//! authorization request it was rendered for, which is validated again from scratch; its CSRF
//! token must be the session's token for that exact request (SEC-52, SEC-53).

use super::common::{client_ip, read_form_body};
use super::flow::{
    After, LoginFor, LoginForm, OnPage, account_page, continue_at_authorize, limited_page,
    link_offered, login_page, refusal, respond, signed_in,
};
use crate::auth::sign_in::SignInError;
use crate::browser::pages;
use crate::browser::session::Current;
use crate::error::{AppError, PageError};
use crate::oauth::authorize::{AuthzError, Params, Response};
use crate::oauth::discovery::paths;
use crate::oauth::form::Form;
use crate::state::AppState;
use crate::store::User;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

const LOGIN_FAILED: &str = "The email or password is incorrect.";

/// A login or consent form that came back: its fields, the session, and what it is for.
struct Checked {
    form: Form,
    current: Current,
    after: After,
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
/// over what it carries (otherwise the 403 page, and nothing changes); then validates the
/// authorization request it carries again from scratch. A login form may carry, instead, the
/// account page it returns to (`next`, one of `ACCOUNT_PAGES`).
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
    let next = match form.get("next") {
        Some(next) if purpose == "login" => {
            Some(account_page(next).ok_or_else(PageError::forbidden)?)
        }
        Some(_) => return Err(PageError::forbidden().into()),
        None => None,
    };
    let raw = form.get("request").unwrap_or("");
    let data = match next {
        Some(next) => LoginFor::Account(next).csrf_data(),
        None => raw.to_owned(),
    };
    let current = state
        .sessions
        .current(req)
        .await?
        .filter(|c| c.csrf_ok(form.get("csrf_token"), purpose, &data))
        .ok_or_else(PageError::forbidden)?;
    if let Some(next) = next {
        return Ok(Checked {
            form,
            current,
            after: After::Account(next),
        });
    }
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
        after: After::Authorize(Box::new(request)),
    })
}

/// The login page of an account page (`?next=`, by default the password page): straight on
/// when already signed in.
pub async fn get_login(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let params = Params::parse(req.query_string().as_bytes());
    let next = match params.single("next") {
        Ok(None) => paths::ACCOUNT_PASSWORD,
        Ok(Some(next)) => account_page(next)
            .ok_or_else(|| PageError::bad_request("There is no such page to sign in to."))?,
        Err(_) => return Err(PageError::bad_request("The parameter next is repeated.").into()),
    };
    let current = state.sessions.current(&req).await.on_page()?;
    if current.as_ref().is_some_and(|c| c.user.is_some()) {
        return Ok(pages::redirect(
            false,
            &state.settings.endpoint(next),
            vec![],
        ));
    }
    let (shown, cookie) = state.sessions.fresh_pre_login(current);
    let link = link_offered(&state, &req, &shown);
    let form = LoginForm {
        username: link.as_deref().unwrap_or(""),
        link_email: link.as_deref(),
        ..LoginForm::blank(&state)
    };
    Ok(login_page(
        LoginFor::Account(next),
        &shown,
        form,
        cookie.into_iter().collect(),
    ))
}

pub async fn post_login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Checked {
        form,
        current,
        after,
    } = match checked(&state, &req, payload, "login").await {
        Ok(c) => c,
        Err(stop) => return stop.answer(),
    };
    let target = after.login_for();
    let username = form.get("username").unwrap_or("").trim();
    let password = form.get("password").unwrap_or("");
    let link = link_offered(&state, &req, &current);
    let again = |status: StatusCode, error: &str| {
        let form = LoginForm {
            status,
            error: Some(error),
            username,
            link_email: link.as_deref(),
            ..LoginForm::blank(&state)
        };
        // A form shown again gets a new pre-login cookie when the old one is half gone.
        let (shown, cookie) = state.sessions.fresh_pre_login(Some(current.clone()));
        login_page(target, &shown, form, cookie.into_iter().collect())
    };
    if username.is_empty() || password.is_empty() {
        return Ok(again(
            StatusCode::BAD_REQUEST,
            "Enter your email and password.",
        ));
    }
    let ip = client_ip(&req, &state);
    let device = state.sessions.presented_device(&req);
    let attempt = state
        .sign_in
        .sign_in(ip, username, password.to_owned(), device.as_deref())
        .await;
    crate::metrics::sign_in("login_page", crate::auth::sign_in::outcome(&attempt));
    let user = match attempt {
        Ok(user) => user,
        Err(SignInError::Limited(wait)) => return Ok(limited_page(wait, again)),
        Err(SignInError::Failed) => return Ok(again(StatusCode::UNAUTHORIZED, LOGIN_FAILED)),
        Err(e) => return Err(PageError::from(e).into()),
    };
    // An upstream identity offered for linking in this browser is linked now, if this is the
    // user it was offered for (their password proved the account is theirs).
    let (user, mut cookies) = link_after_password(&state, &req, &current, user).await?;
    let (_, cookie) = state
        .sessions
        .sign_in(Some(&current), &user)
        .await
        .on_page()?;
    // This browser has now proved itself for this username (a new cookie at every sign-in).
    let device = state
        .sessions
        .device_cookie(state.sign_in.device_cookie(username, &user));
    cookies.extend([cookie, device]);
    Ok(signed_in(&state, after, &user, cookies, true))
}

/// After a password sign-in: links the upstream identity this browser was offered to link
/// (`#link-account`) when `user` is the user it was offered for; the user as they are then
/// (a link changes the security stamp), and the cookie clearing the offer.
async fn link_after_password(
    state: &AppState,
    req: &HttpRequest,
    current: &Current,
    user: User,
) -> Result<(User, Vec<Cookie<'static>>), PageError> {
    let cookies = &state.federation_cookies;
    if !cookies.has_link(req) {
        return Ok((user, vec![]));
    }
    let removal = vec![cookies.link_removal()];
    let now = chrono::Utc::now().timestamp();
    let offered = cookies.link(req, &current.session.id_hash, now);
    let (Some(federation), Some(link)) = (&state.federation, offered) else {
        return Ok((user, removal));
    };
    if link.user_id != user.id {
        return Ok((user, removal));
    }
    let linked = federation
        .link_after_password(&link.issuer, &link.subject, &user)
        .await
        .on_page()?;
    Ok((linked.unwrap_or(user), removal))
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
    let (form, current) = (c.form, c.current);
    let After::Authorize(request) = c.after else {
        return Err(PageError::forbidden().into());
    };
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

/// The organization chooser's form: the chosen slug joins the request, which goes back to the
/// authorization endpoint (where the membership is checked like any `organization` parameter).
pub async fn post_organization(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let c = match checked(&state, &req, payload, "organization").await {
        Ok(c) => c,
        Err(stop) => return stop.answer(),
    };
    let After::Authorize(request) = c.after else {
        return Err(PageError::forbidden().into());
    };
    if c.current.signed_in().is_none() {
        return Err(PageError::forbidden().into());
    }
    let Some(slug) = c
        .form
        .get("organization")
        .filter(|s| !s.is_empty() && s.len() <= 200)
    else {
        return Err(PageError::bad_request("Choose an organization.").into());
    };
    Ok(continue_at_authorize(
        &state,
        &request.params.with("organization", slug),
        vec![],
    ))
}
