//! Server-rendered pages (askama, escaped by default) and the headers every page carries:
//! CSP without inline script and with `frame-ancestors 'none'`, `X-Frame-Options: DENY`,
//! `Referrer-Policy: no-referrer`, `Cache-Control: no-store`, `nosniff`, COOP (SEC-13, SEC-54,
//! SEC-55). HSTS, when the issuer is https, is added to every response by `startup`.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder};
use askama::Template;

/// Pages load only their own stylesheet; no script at all.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; \
                   frame-ancestors 'none'";
/// The form_post page runs one script, served from irongate itself, never inline.
const CSP_FORM_POST: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                             script-src 'self'; base-uri 'none'; frame-ancestors 'none'";

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub client_name: &'a str,
    pub error: Option<&'a str>,
    pub csrf_token: &'a str,
    pub request: &'a str,
    /// The account page to return to, for a sign-in that is not part of an authorization
    /// request (then `request` is empty).
    pub next: Option<&'a str>,
    pub username: &'a str,
    /// Where `a#login-google` starts a sign-in at the upstream provider, when configured.
    pub google: Option<&'a str>,
    /// The email of the account an upstream identity waits to be linked to (`#link-account`).
    pub link_email: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage<'a> {
    pub email: &'a str,
    pub error: Option<&'a str>,
    pub csrf_token: &'a str,
    /// Shows the confirmation (`#password-changed`) instead of the form.
    pub changed: bool,
}

#[derive(Template)]
#[template(path = "api_keys.html")]
pub struct ApiKeysPage<'a> {
    pub email: &'a str,
    pub keys: Vec<ApiKeyRowView>,
    /// The user's permissions: one checkbox each.
    pub scopes: Vec<String>,
    /// (seconds, label) choices of `select#expires`.
    pub lifetimes: Vec<(u64, String)>,
    pub csrf_token: &'a str,
    /// A key just made: shown once.
    pub new_key: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// One row of the keys table.
pub struct ApiKeyRowView {
    pub id: String,
    pub name: String,
    pub display: String,
    pub scopes: String,
    pub expires: String,
    pub last_used: String,
    pub revoked: bool,
}

pub struct ScopeItem {
    pub name: String,
    pub description: String,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    pub client_name: &'a str,
    pub email: &'a str,
    pub scopes: Vec<ScopeItem>,
    pub csrf_token: &'a str,
    pub request: &'a str,
    /// The organization the approval is for (it is part of the request the form carries).
    pub organization: Option<&'a str>,
}

/// An organization on the chooser page.
pub struct OrganizationItem {
    pub slug: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "organization.html")]
pub struct OrganizationPage<'a> {
    pub client_name: &'a str,
    pub organizations: Vec<OrganizationItem>,
    pub csrf_token: &'a str,
    pub request: &'a str,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    /// The correlation id to quote when reporting the problem (SEC-61).
    pub request_id: Option<&'a str>,
    /// The way back (to the sign-in the error interrupted), if there is one.
    pub back: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "logged_out.html")]
pub struct LoggedOutPage;

#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage<'a> {
    pub client_name: Option<&'a str>,
    pub action: &'a str,
    pub csrf_token: &'a str,
    pub request: &'a str,
}

#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage<'a> {
    pub action: &'a str,
    pub params: Vec<(&'a str, &'a str)>,
}

/// The headers every browser-facing response carries, pages and redirects alike.
pub fn secure_headers(builder: &mut HttpResponseBuilder, csp: &'static str) {
    builder
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        ))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .insert_header((
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .insert_header((
            "Cross-Origin-Opener-Policy",
            HeaderValue::from_static("same-origin"),
        ));
}

/// A rendered page with its status, cookies and the security headers.
pub fn page<T: Template>(
    status: StatusCode,
    template: &T,
    cookies: Vec<Cookie<'static>>,
) -> HttpResponse {
    render(status, template, cookies, CSP)
}

fn render<T: Template>(
    status: StatusCode,
    template: &T,
    cookies: Vec<Cookie<'static>>,
    csp: &'static str,
) -> HttpResponse {
    let body = match template.render() {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            return HttpResponse::InternalServerError().finish();
        }
    };
    let mut builder = HttpResponse::build(status);
    secure_headers(&mut builder, csp);
    for c in cookies {
        builder.cookie(c);
    }
    builder.content_type("text/html; charset=utf-8").body(body)
}

/// The form_post response page (its script is `/assets/form_post.js`).
pub fn form_post(template: &FormPostPage<'_>) -> HttpResponse {
    render(StatusCode::OK, template, Vec::new(), CSP_FORM_POST)
}

/// An error page; `message` is escaped like everything else in a template.
pub fn error(status: StatusCode, title: &str, message: &str, back: Option<&str>) -> HttpResponse {
    let request_id = crate::telemetry::current_request_id();
    let page_data = ErrorPage {
        title,
        message,
        request_id: request_id.as_deref(),
        back,
    };
    page(status, &page_data, Vec::new())
}

/// A redirect from a browser-facing endpoint: 302 after a GET, 303 after a POST (never 307,
/// which would resend credentials: RFC 9700 §4.12, SEC-11).
pub fn redirect(after_post: bool, location: &str, cookies: Vec<Cookie<'static>>) -> HttpResponse {
    let status = if after_post {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::FOUND
    };
    let mut builder = HttpResponse::build(status);
    secure_headers(&mut builder, CSP);
    for c in cookies {
        builder.cookie(c);
    }
    builder.insert_header((header::LOCATION, location)).finish()
}

/// What a scope lets the application do, in words, for the consent page.
pub fn describe_scope(name: &str) -> String {
    match name {
        "openid" => "Know who you are (your account identifier)".into(),
        "profile" => "See your name".into(),
        "email" => "See your email address and whether it is verified".into(),
        "offline_access" => "Keep access while you are not using it".into(),
        "roles" => "See your roles".into(),
        "admin" => "Administer this service with your account".into(),
        other => match other.split_once(':') {
            Some((resource, "read")) => format!("Read {resource} on your behalf"),
            Some((resource, "write")) => format!("Change {resource} on your behalf"),
            _ => format!("Use the permission \u{201c}{other}\u{201d}"),
        },
    }
}

/// The stylesheet and the form_post script, compiled in.
pub const STYLESHEET: &str = include_str!("../../templates/static/irongate.css");
pub const FORM_POST_SCRIPT: &str = include_str!("../../templates/static/form_post.js");
