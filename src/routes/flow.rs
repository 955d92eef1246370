//! What the browser-facing routes share: their resources (405 pages), the login and consent
//! pages of an authorization request, authorization responses, and the face their errors
//! answer with.

use crate::browser::pages::{
    self, ConsentPage, FormPostPage, LoginPage, OrganizationItem, OrganizationPage, ScopeItem,
};
use crate::browser::session::Current;
use crate::error::{AppError, PageError};
use crate::oauth::authorize::{AuthorizationRequest, Params, Refusal, Response, ResponseMode};
use crate::oauth::discovery::paths;
use crate::oauth::interaction::Loaded;
use crate::state::AppState;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

/// Errors of the layers below, answered as an error page.
pub trait OnPage<T> {
    fn on_page(self) -> Result<T, PageError>;
}

impl<T, E: Into<PageError>> OnPage<T> for Result<T, E> {
    fn on_page(self) -> Result<T, PageError> {
        self.map_err(Into::into)
    }
}

/// A browser-facing resource: any other method is a 405 page with `Allow` and the page headers
/// (SEC-52: no state change on GET).
pub fn page_resource(resource: actix_web::Resource, allow: &'static str) -> actix_web::Resource {
    resource.default_service(web::to(move |_: HttpRequest| async move {
        Err::<HttpResponse, AppError>(PageError::method_not_allowed(allow).into())
    }))
}

/// Where a sign-in goes on to: the authorization request it was for, or the account page it
/// returns to.
pub enum After {
    Authorize(Box<AuthorizationRequest>),
    Account(&'static str),
}

impl After {
    /// What the login form for this sign-in is for.
    pub fn login_for(&self) -> LoginFor<'_> {
        match self {
            After::Authorize(request) => LoginFor::Request(request),
            After::Account(next) => LoginFor::Account(next),
        }
    }
}

/// A user just signed in (`cookies` hold the new session): on to the account page, or back to
/// the authorization endpoint to go on with the request (consent, code, redirect), exactly the
/// same after a password and after a sign-in at the upstream provider. `after_post` says
/// whether this answers a POST (303) or a GET (302).
pub fn signed_in(
    state: &AppState,
    after: After,
    user: &crate::store::User,
    cookies: Vec<Cookie<'static>>,
    after_post: bool,
) -> HttpResponse {
    let request = match after {
        After::Authorize(request) => request,
        After::Account(next) => {
            tracing::info!(user = %user.id, "signed in to the account pages");
            let to = state.settings.endpoint(next);
            return pages::redirect(after_post, &to, cookies);
        }
    };
    tracing::info!(user = %user.id, client = %request.client.id, "signed in");
    // OpenID Connect Core §3.1.2.3: a hint for another user than the one who just signed in
    // cannot be satisfied.
    if state
        .interaction
        .hint_names_someone_else(&request, &user.id)
    {
        let e = crate::oauth::authorize::AuthzError::new(
            "login_required",
            "the signed-in user is not the one the id_token_hint names",
        );
        let response = Response::error(&request.target, &state.settings, &e);
        let mut answer = respond(&response, after_post);
        for cookie in &cookies {
            answer.add_cookie(cookie).ok();
        }
        return answer;
    }
    let next = format!(
        "{}?{}",
        state.settings.endpoint(paths::AUTHORIZE),
        request.params.after_sign_in().encode()
    );
    pages::redirect(after_post, &next, cookies)
}

/// Back to the authorization endpoint with `params`, as a GET (303).
pub fn continue_at_authorize(
    state: &AppState,
    params: &Params,
    cookies: Vec<Cookie<'static>>,
) -> HttpResponse {
    let next = format!(
        "{}?{}",
        state.settings.endpoint(paths::AUTHORIZE),
        params.encode()
    );
    pages::redirect(true, &next, cookies)
}

/// An authorization request that cannot go on: an error page when the client or redirect URI
/// is in doubt, otherwise an error response to the client.
pub fn refusal(loaded: Loaded, after_post: bool) -> Result<HttpResponse, PageError> {
    match loaded {
        Loaded::Refused(Refusal::Page(message)) => Err(PageError::bad_request(message)),
        Loaded::Refused(Refusal::Redirect(response)) => Ok(respond(&response, after_post)),
        Loaded::Store(e) => Err(e.into()),
    }
}

/// Sends an authorization response to the client: a redirect (`query`) or an auto-submitting
/// form (`form_post`).
pub fn respond(response: &Response, after_post: bool) -> HttpResponse {
    match response.target.mode {
        ResponseMode::Query => pages::redirect(after_post, &response.query_url(), vec![]),
        ResponseMode::FormPost => pages::form_post(&FormPostPage {
            action: &response.target.redirect_uri,
            params: response
                .params
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect(),
        }),
    }
}

/// What the login page shows besides the form: its status, an error, the username typed.
pub struct LoginForm<'a> {
    pub status: StatusCode,
    pub error: Option<&'a str>,
    pub username: &'a str,
    /// Whether "Sign in with Google" is offered (`a#login-google`).
    pub google: bool,
    /// The account an upstream identity waits to be linked to (`#link-account`).
    pub link_email: Option<&'a str>,
}

/// The email of the account an upstream identity waits to be linked to in this browser
/// (`#link-account` on the login page), if any.
pub fn link_offered(state: &AppState, req: &HttpRequest, current: &Current) -> Option<String> {
    let now = chrono::Utc::now().timestamp();
    state
        .federation_cookies
        .link(req, &current.session.id_hash, now)
        .map(|link| link.email)
}

impl<'a> LoginForm<'a> {
    /// A form as first shown: 200, no error, no username.
    pub fn blank(state: &AppState) -> Self {
        Self {
            status: StatusCode::OK,
            error: None,
            username: "",
            google: state.federation.is_some(),
            link_email: None,
        }
    }
}

/// What a login form signs in for: an authorization request, or one of irongate's own account
/// pages (a path from `ACCOUNT_PAGES`).
#[derive(Clone, Copy)]
pub enum LoginFor<'a> {
    Request(&'a AuthorizationRequest),
    Account(&'a str),
}

/// The pages a sign-in without an authorization request may return to.
pub const ACCOUNT_PAGES: &[&str] = &[paths::ACCOUNT_PASSWORD, paths::ACCOUNT_API_KEYS];

/// The account page `next` names, if it is one of `ACCOUNT_PAGES`.
pub fn account_page(next: &str) -> Option<&'static str> {
    ACCOUNT_PAGES.iter().find(|p| **p == next).copied()
}

impl LoginFor<'_> {
    /// The query that carries the target to another page (`request=…` or `next=…`).
    pub fn query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        match self {
            LoginFor::Request(request) => query.append_pair("request", &request.params.encode()),
            LoginFor::Account(next) => query.append_pair("next", next),
        };
        query.finish()
    }

    /// Where a sign-in for this target starts again (the way back from an error page).
    pub fn start_over(&self, state: &AppState) -> String {
        match self {
            LoginFor::Request(request) => format!(
                "{}?{}",
                state.settings.endpoint(paths::AUTHORIZE),
                request.params.encode()
            ),
            LoginFor::Account(next) => format!(
                "{}?{}",
                state.settings.endpoint(paths::LOGIN),
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", next)
                    .finish()
            ),
        }
    }
    /// What the form's CSRF token is bound to, besides the session.
    pub fn csrf_data(&self) -> String {
        match self {
            LoginFor::Request(request) => request.params.encode(),
            LoginFor::Account(next) => format!("next={next}"),
        }
    }
}

/// The login page for `target`, its CSRF token bound to the session and the target.
pub fn login_page(
    target: LoginFor<'_>,
    current: &Current,
    form: LoginForm<'_>,
    cookies: Vec<Cookie<'static>>,
) -> HttpResponse {
    let data = target.csrf_data();
    let csrf = current.csrf_token("login", &data);
    let (client_name, request, next) = match target {
        LoginFor::Request(request) => (request.client.name.as_str(), data.as_str(), None),
        LoginFor::Account(next) => ("your account", "", Some(next)),
    };
    // Relative, like the form's action: both pages live beside `login`.
    let google = form
        .google
        .then(|| format!("login/google?{}", target.query()));
    pages::page(
        form.status,
        &LoginPage {
            client_name,
            error: form.error,
            csrf_token: &csrf,
            request,
            next,
            username: form.username,
            google: google.as_deref(),
            link_email: form.link_email,
        },
        cookies,
    )
}

/// The consent page for `request`, its CSRF token bound to the session and the request.
pub fn consent_page(
    request: &AuthorizationRequest,
    current: &Current,
    organization: Option<String>,
) -> HttpResponse {
    let encoded = request.params.encode();
    let csrf = current.csrf_token("consent", &encoded);
    let email = current.user.as_ref().map_or("", |u| u.email.as_str());
    pages::page(
        StatusCode::OK,
        &ConsentPage {
            client_name: &request.client.name,
            email,
            scopes: request
                .scopes
                .iter()
                .map(|s| ScopeItem {
                    name: s.to_owned(),
                    description: pages::describe_scope(s),
                })
                .collect(),
            csrf_token: &csrf,
            request: &encoded,
            organization: organization.as_deref(),
        },
        vec![],
    )
}

/// The organization chooser for `request` (`form#organization`, one button per membership), its
/// CSRF token bound to the session and the request.
pub fn organization_page(
    request: &AuthorizationRequest,
    current: &Current,
    organizations: Vec<crate::store::Organization>,
) -> HttpResponse {
    let encoded = request.params.encode();
    let csrf = current.csrf_token("organization", &encoded);
    pages::page(
        StatusCode::OK,
        &OrganizationPage {
            client_name: &request.client.name,
            organizations: organizations
                .into_iter()
                .map(|o| OrganizationItem {
                    slug: o.slug,
                    name: o.name,
                })
                .collect(),
            csrf_token: &csrf,
            request: &encoded,
        },
        vec![],
    )
}

/// What a page says when the sign-in limits refuse, and the `Retry-After` seconds.
pub fn limited_message(wait: std::time::Duration) -> (u64, String) {
    let secs = crate::ephemeral::retry_after_secs(wait);
    let minutes = secs.div_ceil(60);
    let message = format!(
        "Too many sign-in attempts. Wait {minutes} minute{} and try again.",
        if minutes == 1 { "" } else { "s" }
    );
    (secs, message)
}

/// A form shown again because the sign-in limits refuse (429): `page` renders it with the error
/// saying how long to wait, and the answer carries `Retry-After`.
pub fn limited_page(
    wait: std::time::Duration,
    page: impl FnOnce(StatusCode, &str) -> HttpResponse,
) -> HttpResponse {
    let (secs, message) = limited_message(wait);
    let mut response = page(StatusCode::TOO_MANY_REQUESTS, &message);
    response.headers_mut().insert(
        actix_web::http::header::RETRY_AFTER,
        actix_web::http::header::HeaderValue::from(secs),
    );
    response
}
