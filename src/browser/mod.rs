//! What the browser sees: sessions (cookie, CSRF) and server-rendered pages.

pub mod federation;
pub mod pages;
pub mod reveal;
pub mod sealed;
pub mod session;

use actix_web::cookie::{Cookie, CookieBuilder, SameSite};

/// A cookie of irongate's pages: for the whole site, HttpOnly, `SameSite=Lax` (sent on the
/// top-level GETs that bring a browser back from a client or a provider), `Secure` on https.
pub fn site_cookie(
    name: impl Into<std::borrow::Cow<'static, str>>,
    value: String,
    https: bool,
) -> CookieBuilder<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(https)
}
