//! The authorization endpoint (GET and POST) and what the browser-facing routes share: the
//! login and consent pages, authorization responses, error pages. The authorization request
//! travels through the login and consent forms as a hidden field; each form's CSRF token is
//! bound to the session and to that exact request (see `login.rs`).

use super::common::read_form_body;
use crate::browser::pages::{self, ConsentPage, FormPostPage, LoginPage, ScopeItem};
use crate::browser::session::{self, Current};
use crate::oauth::authorize::{
    self, AuthorizationRequest, Params, Refusal, Response, ResponseMode,
};
use crate::oauth::discovery::paths;
use crate::oauth::interaction::{self, Step};
use crate::startup::AppState;
use crate::store::StoreError;
use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page_resource(
        web::resource(paths::AUTHORIZE)
            .route(web::get().to(get_authorize))
            .route(web::post().to(post_authorize)),
        "GET, POST",
    ))
    .service(page_resource(
        web::resource(paths::LOGIN).route(web::post().to(super::login::post_login)),
        "POST",
    ))
    .service(page_resource(
        web::resource(paths::CONSENT).route(web::post().to(super::login::post_consent)),
        "POST",
    ));
}

/// A browser-facing resource: any other method is a 405 page with `Allow` and the page headers
/// (SEC-52: no state change on GET).
pub fn page_resource(resource: actix_web::Resource, allow: &'static str) -> actix_web::Resource {
    resource.default_service(web::to(move |req: HttpRequest| async move {
        method_not_allowed(&req, allow)
    }))
}

fn method_not_allowed(req: &HttpRequest, allow: &'static str) -> HttpResponse {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return HttpResponse::MethodNotAllowed().finish();
    };
    let mut response = pages::error(
        state,
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        "This address does not accept that kind of request.",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    response
}

async fn get_authorize(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let params = Params::parse(req.query_string().as_bytes());
    authorize(&state, &req, params, false).await
}

/// OpenID Connect Core §3.1.2.1: the same request, form-encoded in a POST body (SEC-11).
async fn post_authorize(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let params = match read_form_body(&req, payload).await {
        Ok(body) => Params::parse(&body),
        Err(e) => return unreadable(&state, &e),
    };
    // A cross-site POST carries no `SameSite=Lax` session cookie: continue as a top-level GET,
    // which does, once the request is known to be good (errors are answered right here).
    match load_request(&state, params).await {
        Ok(request) => continue_at_authorize(&state, &request.params, vec![]),
        Err(loaded) => refusal(&state, loaded, true),
    }
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
    pages::redirect(state, true, &next, cookies)
}

async fn authorize(
    state: &AppState,
    req: &HttpRequest,
    params: Params,
    after_post: bool,
) -> HttpResponse {
    let request = match load_request(state, params).await {
        Ok(r) => r,
        Err(response) => return refusal(state, response, after_post),
    };
    let current = match session::current(state, req).await {
        Ok(c) => c,
        Err(e) => return unavailable(state, e),
    };
    match proceed(state, request, current, after_post).await {
        Ok(response) => response,
        Err(e) => unavailable(state, e),
    }
}

/// Finds the client and validates the request.
pub async fn load_request(
    state: &AppState,
    params: Params,
) -> Result<AuthorizationRequest, Loaded> {
    let client = match params.single("client_id") {
        Ok(Some(id)) if id.len() <= 256 => state
            .clients
            .find(&state.store, id)
            .await
            .map_err(Loaded::Store)?,
        _ => None,
    };
    authorize::validate(&state.settings, client, params).map_err(Loaded::Refused)
}

pub enum Loaded {
    Refused(Refusal),
    Store(StoreError),
}

pub fn refusal(state: &AppState, loaded: Loaded, after_post: bool) -> HttpResponse {
    match loaded {
        Loaded::Refused(Refusal::Page(message)) => bad_request(state, &message),
        Loaded::Refused(Refusal::Redirect(response)) => respond(state, &response, after_post),
        Loaded::Store(e) => unavailable(state, e),
    }
}

/// The authorization request is valid: sign in, consent, then the code, asking only for what
/// is missing (and asking nothing with `prompt=none`).
async fn proceed(
    state: &AppState,
    request: AuthorizationRequest,
    current: Option<Current>,
    after_post: bool,
) -> Result<HttpResponse, StoreError> {
    let signed_in = current.as_ref().and_then(Current::signed_in);
    match interaction::decide(state, &request, signed_in).await? {
        Step::Respond(response) => Ok(respond(state, &response, after_post)),
        Step::SignIn => {
            let (current, cookie) = session::fresh_pre_login(state, current);
            let prefill = request.login_hint.clone().unwrap_or_default();
            let form = LoginForm {
                status: StatusCode::OK,
                error: None,
                username: &prefill,
            };
            Ok(login_page(
                state,
                &request,
                &current,
                form,
                cookie.into_iter().collect(),
            ))
        }
        // `decide` asks for consent or a code only when someone is signed in.
        Step::Consent => match &current {
            Some(current) => Ok(consent_page(state, &request, current)),
            None => Err(no_session()),
        },
        Step::Issue => {
            let signed_in = signed_in.ok_or_else(no_session)?;
            let response = interaction::issue_code(state, &request, signed_in).await?;
            Ok(respond(state, &response, after_post))
        }
    }
}

fn no_session() -> StoreError {
    StoreError::Unexpected(anyhow::anyhow!(
        "a consent or code step without a signed-in user"
    ))
}

/// Sends an authorization response to the client: a redirect (`query`) or an auto-submitting
/// form (`form_post`).
pub fn respond(state: &AppState, response: &Response, after_post: bool) -> HttpResponse {
    match response.target.mode {
        ResponseMode::Query => pages::redirect(state, after_post, &response.query_url(), vec![]),
        ResponseMode::FormPost => pages::form_post(
            state,
            &FormPostPage {
                action: &response.target.redirect_uri,
                params: response
                    .params
                    .iter()
                    .map(|(k, v)| (*k, v.as_str()))
                    .collect(),
            },
        ),
    }
}

/// What the login page shows besides the form: its status, an error, the username typed.
pub struct LoginForm<'a> {
    pub status: StatusCode,
    pub error: Option<&'a str>,
    pub username: &'a str,
}

/// The login page for `request`, its CSRF token bound to the session and the request.
pub fn login_page(
    state: &AppState,
    request: &AuthorizationRequest,
    current: &Current,
    form: LoginForm<'_>,
    cookies: Vec<Cookie<'static>>,
) -> HttpResponse {
    let encoded = request.params.encode();
    let csrf = current.csrf_token("login", &encoded);
    pages::page(
        state,
        form.status,
        &LoginPage {
            client_name: &request.client.name,
            error: form.error,
            csrf_token: &csrf,
            request: &encoded,
            username: form.username,
        },
        cookies,
    )
}

/// The consent page for `request`, its CSRF token bound to the session and the request.
pub fn consent_page(
    state: &AppState,
    request: &AuthorizationRequest,
    current: &Current,
) -> HttpResponse {
    let encoded = request.params.encode();
    let csrf = current.csrf_token("consent", &encoded);
    let email = current.user.as_ref().map_or("", |u| u.email.as_str());
    pages::page(
        state,
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
        },
        vec![],
    )
}

/// A form body that could not be read: too large (413) or not a form (400).
pub fn unreadable(state: &AppState, e: &crate::oauth::error::OAuthError) -> HttpResponse {
    if e.status == 413 {
        pages::error(
            state,
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request too large",
            &e.description,
        )
    } else {
        bad_request(state, &e.description)
    }
}

pub fn bad_request(state: &AppState, message: &str) -> HttpResponse {
    pages::error(state, StatusCode::BAD_REQUEST, "Invalid request", message)
}

pub fn forbidden(state: &AppState) -> HttpResponse {
    pages::error(
        state,
        StatusCode::FORBIDDEN,
        "Request refused",
        "This form has expired or did not come from this site. Go back to the application and start again.",
    )
}

pub fn unavailable(state: &AppState, e: StoreError) -> HttpResponse {
    tracing::error!(error = %e, "a browser request could not be completed");
    let mut response = pages::error(
        state,
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        "The service is temporarily unavailable. Try again in a moment.",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}
