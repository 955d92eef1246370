//! The account page for API keys (CONTRACT "API keys"): list, create (the new key shown once),
//! revoke; a signed-in browser session, CSRF on every form, the page headers. Without a session
//! the page sends the browser to the login page, which brings it back.

use super::account::{signed_in, to_login};
use super::common::read_form_body;
use super::flow::{OnPage, page_resource};
use crate::admin::{AdminError, ApiKeyInput, ApiKeyListing};
use crate::browser::pages::{self, ApiKeyRowView, ApiKeysPage};
use crate::browser::session::Current;
use crate::error::{AppError, PageError};
use crate::oauth::discovery::paths;
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

/// The cookie that carries a new key to the page that shows it once.
const NEW_KEY_COOKIE: &str = "irongate_new_key";

/// What the page's CSRF tokens are bound to.
const PURPOSE: &str = "api-keys";
const DAY: u64 = 86_400;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page_resource(
        web::resource(paths::ACCOUNT_API_KEYS)
            .route(web::get().to(get_keys))
            .route(web::post().to(post_create)),
        "GET, POST",
    ))
    .service(page_resource(
        web::resource(paths::ACCOUNT_API_KEYS_REVOKE).route(web::post().to(post_revoke)),
        "POST",
    ));
}

/// The lifetimes `select#expires` offers, within `api_key_max_ttl`.
fn lifetimes(max: u64) -> Vec<(u64, String)> {
    let mut choices: Vec<(u64, String)> = [30, 90, 180, 365]
        .into_iter()
        .map(|days| (days * DAY, format!("{days} days")))
        .filter(|(seconds, _)| *seconds <= max)
        .collect();
    if choices.is_empty() {
        choices.push((max, format!("{max} seconds")));
    }
    choices
}

fn when(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

fn row(k: ApiKeyListing) -> ApiKeyRowView {
    ApiKeyRowView {
        revoked: k.revoked_at.is_some(),
        scopes: k.scopes.join(" "),
        expires: when(k.expires_at),
        last_used: k.last_used_at.map_or_else(|| "never".into(), when),
        id: k.id,
        name: k.name,
        display: k.display,
    }
}

/// The page for the signed-in `current`.
async fn render(
    state: &AppState,
    current: &Current,
    status: StatusCode,
    new_key: Option<&str>,
    error: Option<&str>,
    cookies: Vec<Cookie<'static>>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = &current.user else {
        return Ok(to_login(state, paths::ACCOUNT_API_KEYS));
    };
    let keys = state
        .admin
        .list_api_keys(&user.id)
        .await
        .map_err(PageError::from)?;
    let scopes = state
        .admin
        .user_permissions(&user.id)
        .await
        .map_err(PageError::from)?;
    let csrf = current.csrf_token(PURPOSE, "");
    Ok(pages::page(
        status,
        &ApiKeysPage {
            email: &user.email,
            keys: keys.into_iter().map(row).collect(),
            scopes,
            lifetimes: lifetimes(state.settings.tokens.api_key_max_ttl),
            csrf_token: &csrf,
            new_key,
            error,
        },
        cookies,
    ))
}

/// The cookie carrying `value`: a session cookie (never written to the browser's disk; the
/// sealed value expires by itself), or with `remove` its removal.
fn new_key_cookie(state: &AppState, value: String, remove: bool) -> Cookie<'static> {
    let mut cookie = Cookie::build(NEW_KEY_COOKIE, value)
        .path(paths::ACCOUNT_API_KEYS)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.settings.issuer_is_https())
        .finish();
    if remove {
        cookie.make_removal();
    }
    cookie
}

async fn get_keys(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let Some(current) = signed_in(&state, &req).await? else {
        return Ok(to_login(&state, paths::ACCOUNT_API_KEYS));
    };
    // A key made just before: shown this once, and its cookie cleared.
    let Some(sealed) = req.cookie(NEW_KEY_COOKIE) else {
        return render(&state, &current, StatusCode::OK, None, None, vec![]).await;
    };
    let user_id = current.user.as_ref().map_or("", |u| u.id.as_str());
    let new_key = state
        .reveal
        .open(sealed.value(), user_id, crate::store::unix_now());
    let clear = new_key_cookie(&state, String::new(), true);
    render(
        &state,
        &current,
        StatusCode::OK,
        new_key.as_deref(),
        None,
        vec![clear],
    )
    .await
}

/// The form's fields; `scope` repeats (one per checked box).
struct Fields {
    csrf_token: Option<String>,
    name: String,
    scopes: Vec<String>,
    expires: Option<String>,
    id: Option<String>,
}

fn fields(body: &[u8]) -> Fields {
    let mut f = Fields {
        csrf_token: None,
        name: String::new(),
        scopes: Vec::new(),
        expires: None,
        id: None,
    };
    for (key, value) in url::form_urlencoded::parse(body) {
        match key.as_ref() {
            "csrf_token" => f.csrf_token = Some(value.into_owned()),
            "name" => f.name = value.into_owned(),
            "scope" => f.scopes.push(value.into_owned()),
            "expires" => f.expires = Some(value.into_owned()),
            "id" => f.id = Some(value.into_owned()),
            _ => {}
        }
    }
    f
}

/// The signed-in session of a form POST whose origin and CSRF token are right, and its fields;
/// Err with the answer otherwise.
async fn checked_form(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<Result<(Current, Fields), HttpResponse>, AppError> {
    if state.sessions.from_another_site(req) {
        return Err(PageError::forbidden().into());
    }
    let body = read_form_body(req, payload).await.on_page()?;
    let Some(current) = signed_in(state, req).await? else {
        return Ok(Err(to_login(state, paths::ACCOUNT_API_KEYS)));
    };
    let form = fields(&body);
    if !current.csrf_ok(form.csrf_token.as_deref(), PURPOSE, "") {
        return Err(PageError::forbidden().into());
    }
    Ok(Ok((current, form)))
}

async fn post_create(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (current, form) = match checked_form(&req, payload, &state).await? {
        Ok(checked) => checked,
        Err(answer) => return Ok(answer),
    };
    let Some(user) = current.user.clone() else {
        return Ok(to_login(&state, paths::ACCOUNT_API_KEYS));
    };
    let choices = lifetimes(state.settings.tokens.api_key_max_ttl);
    let expires_in = form
        .expires
        .as_deref()
        .and_then(|e| e.parse::<u64>().ok())
        .filter(|e| choices.iter().any(|(s, _)| s == e));
    if expires_in.is_none() {
        let message = "Choose when the key expires.";
        let status = StatusCode::BAD_REQUEST;
        return render(&state, &current, status, None, Some(message), vec![]).await;
    }
    let input = ApiKeyInput {
        name: form.name,
        scopes: form.scopes,
        expires_in,
        organization: None,
    };
    match state.admin.create_api_key(&user.id, input).await {
        Ok(created) => {
            tracing::info!(user = %user.id, key = %created.id, "API key created");
            // Post/redirect/get: the page shows the key once; a reload neither posts again nor
            // shows it again.
            let sealed = state
                .reveal
                .seal(&user.id, &created.key, crate::store::unix_now());
            let cookie = new_key_cookie(&state, sealed, false);
            Ok(pages::redirect(
                true,
                &state.settings.endpoint(paths::ACCOUNT_API_KEYS),
                vec![cookie],
            ))
        }
        Err(AdminError::Invalid { message, .. }) => {
            let status = StatusCode::BAD_REQUEST;
            render(&state, &current, status, None, Some(&message), vec![]).await
        }
        Err(e) => Err(PageError::from(e).into()),
    }
}

async fn post_revoke(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (current, form) = match checked_form(&req, payload, &state).await? {
        Ok(checked) => checked,
        Err(answer) => return Ok(answer),
    };
    let Some(user) = current.user.clone() else {
        return Ok(to_login(&state, paths::ACCOUNT_API_KEYS));
    };
    let id = form.id.unwrap_or_default();
    state
        .admin
        .revoke_api_key(&id, Some(&user.id))
        .await
        .map_err(PageError::from)?;
    tracing::info!(user = %user.id, key = %id, "API key revoked");
    // Post/redirect/get: a reload does not post again.
    Ok(pages::redirect(
        true,
        &state.settings.endpoint(paths::ACCOUNT_API_KEYS),
        vec![],
    ))
}
