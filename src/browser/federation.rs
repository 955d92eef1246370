//! What a browser carries through a sign-in at the upstream provider ("Sign in with Google"),
//! in cookies sealed for its session (`sealed.rs`), so that nothing is stored for a visitor
//! who only clicks the button:
//! - the pending sign-in: the `state`, `nonce` and PKCE verifier sent upstream and what the
//!   sign-in continues to (an authorization request, or an account page), for ten minutes;
//! - the identity waiting to be linked once its local user signs in with their password.
//!
//! Both are bound to the session cookie of the browser that started them (SEC-64): another
//! browser, or this one after its session changed, cannot open them.

use super::sealed::Sealer;
use actix_web::HttpRequest;
use actix_web::cookie::Cookie;
use serde::{Deserialize, Serialize};

/// How long a sign-in may take at the provider (seconds).
pub const PENDING_SECS: i64 = crate::federation::PENDING_STATE_SECS as i64;
/// How long an identity waits for its local user's password (seconds).
pub const LINK_SECS: i64 = 600;
/// Browsers keep cookies up to about 4 KiB; a sealed value longer than this is not set.
pub const MAX_COOKIE_VALUE: usize = 3800;

/// A sign-in started at the provider.
#[derive(Debug, Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// The authorization request the sign-in is for, encoded as it travels in forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// The account page the sign-in returns to, when it is not for an authorization request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// An upstream identity that may be linked to the local user `user_id` once they sign in with
/// their password.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLink {
    pub issuer: String,
    pub subject: String,
    pub user_id: String,
    /// The user's email, shown on the login page.
    pub email: String,
}

/// Seals and reads the two cookies.
#[derive(Clone)]
pub struct FederationCookies {
    pending: Sealer,
    link: Sealer,
    https: bool,
}

impl FederationCookies {
    pub fn new(secret: &[u8], https: bool) -> Self {
        Self {
            pending: Sealer::new(secret, b"irongate upstream sign-in v1"),
            link: Sealer::new(secret, b"irongate upstream link v1"),
            https,
        }
    }

    fn name(&self, base: &'static str) -> String {
        if self.https {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    fn cookie(&self, base: &'static str, value: String, max_age: i64) -> Cookie<'static> {
        // Lax: the provider sends the browser back with a top-level GET.
        super::site_cookie(self.name(base), value, self.https)
            .max_age(actix_web::cookie::time::Duration::seconds(max_age))
            .finish()
    }

    fn removal(&self, base: &'static str) -> Cookie<'static> {
        let mut c = self.cookie(base, String::new(), 0);
        c.make_removal();
        c
    }

    /// The cookie carrying `pending` for the session `session` (its stored hash); None when it
    /// would be too long for a browser to keep.
    pub fn pending_cookie(
        &self,
        pending: &Pending,
        session: &str,
        now: i64,
    ) -> Option<Cookie<'static>> {
        let json = serde_json::to_vec(pending).ok()?;
        let value = self.pending.seal(session, &json, now + PENDING_SECS);
        (value.len() <= MAX_COOKIE_VALUE)
            .then(|| self.cookie("irongate_upstream", value, PENDING_SECS))
    }

    /// The pending sign-in this request carries for `session`, if genuine and young enough.
    pub fn pending(&self, req: &HttpRequest, session: &str, now: i64) -> Option<Pending> {
        let cookie = req.cookie(&self.name("irongate_upstream"))?;
        let plain = self
            .pending
            .open(cookie.value(), session, now, MAX_COOKIE_VALUE)?;
        serde_json::from_slice(&plain).ok()
    }

    /// Clears the pending sign-in (it is used once).
    pub fn pending_removal(&self) -> Cookie<'static> {
        self.removal("irongate_upstream")
    }

    /// The cookie carrying `link` for the session `session`.
    pub fn link_cookie(&self, link: &PendingLink, session: &str, now: i64) -> Cookie<'static> {
        let json = serde_json::to_vec(link).unwrap_or_default();
        let value = self.link.seal(session, &json, now + LINK_SECS);
        self.cookie("irongate_link", value, LINK_SECS)
    }

    /// Whether the request carries a link cookie at all.
    pub fn has_link(&self, req: &HttpRequest) -> bool {
        req.cookie(&self.name("irongate_link")).is_some()
    }

    /// The identity waiting to be linked that this request carries for `session`.
    pub fn link(&self, req: &HttpRequest, session: &str, now: i64) -> Option<PendingLink> {
        let cookie = req.cookie(&self.name("irongate_link"))?;
        let plain = self
            .link
            .open(cookie.value(), session, now, MAX_COOKIE_VALUE)?;
        serde_json::from_slice(&plain).ok()
    }

    pub fn link_removal(&self) -> Cookie<'static> {
        self.removal("irongate_link")
    }
}
