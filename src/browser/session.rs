//! Browser sessions: a random cookie naming a server-side session (stored as a SHA-256), with
//! idle and absolute timeouts, a new identifier at every sign-in, and an end as soon as the
//! user is disabled or logs out everywhere (the security stamp changes). CSRF tokens are HMACs
//! keyed by a per-session secret over what the form does, so a token is good only for its
//! session and its form (SEC-52, SEC-53).
//!
//! Before a sign-in nothing is stored: a random cookie alone binds the login form's CSRF
//! token, keyed by a secret derived from the cookie's value (which only that browser holds,
//! HttpOnly). Unauthenticated visitors cannot make the server write anything, however many
//! authorization requests they send.

use crate::auth::secrets;
use crate::auth::secrets::stamp_digest;
use crate::config::Settings;
use crate::oauth::interaction::SignedIn;
use crate::store::{self, Session, Store, StoreError, User};
use actix_web::HttpRequest;
use actix_web::cookie::Cookie;
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::sync::Arc;

/// How often `last_seen_at` is written at most (the idle timeout's resolution; less with
/// idle timeouts under two minutes).
const TOUCH_EVERY: i64 = 60;

/// The session a request's cookie names, if it is still valid.
#[derive(Debug, Clone)]
pub struct Current {
    pub session: Session,
    /// The signed-in user; None for an anonymous session.
    pub user: Option<User>,
}

impl Current {
    /// The signed-in user, for the authorization flow; None for an anonymous session.
    pub fn signed_in(&self) -> Option<SignedIn<'_>> {
        let user = self.user.as_ref()?;
        Some(SignedIn {
            user_id: &user.id,
            auth_time: self.session.auth_time.unwrap_or(self.session.created_at),
            sid: &self.session.sid,
        })
    }

    /// A CSRF token for a form doing `purpose` with `data` (SEC-52).
    pub fn csrf_token(&self, purpose: &str, data: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.key(), &csrf_message(purpose, data)).as_ref())
    }

    /// Whether `token` is this session's token for `purpose` with `data` (constant time).
    pub fn csrf_ok(&self, token: Option<&str>, purpose: &str, data: &str) -> bool {
        let Some(tag) = token.and_then(|t| URL_SAFE_NO_PAD.decode(t).ok()) else {
            return false;
        };
        hmac::verify(&self.key(), &csrf_message(purpose, data), &tag).is_ok()
    }

    fn key(&self) -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, self.session.csrf_secret.as_bytes())
    }
}

fn csrf_message(purpose: &str, data: &str) -> Vec<u8> {
    let mut message = Vec::with_capacity(purpose.len() + data.len() + 1);
    message.extend_from_slice(purpose.as_bytes());
    message.push(0);
    message.extend_from_slice(data.as_bytes());
    message
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Seconds another node's clock may run ahead of this one's.
const CLOCK_SKEW: i64 = 30;

/// A pre-login session. Its CSRF secret is derived from the cookie value, so nothing needs
/// storing; the derivation is keyed apart from the value's stored hash.
fn pre_login(value: &str, issued: i64, idle: i64) -> Current {
    let key = hmac::Key::new(hmac::HMAC_SHA256, value.as_bytes());
    let secret = hmac::sign(&key, b"irongate pre-login csrf");
    Current {
        session: Session {
            id_hash: secrets::hash_secret(value),
            sid: String::new(),
            user_id: None,
            stamp_digest: None,
            auth_time: None,
            csrf_secret: URL_SAFE_NO_PAD.encode(secret.as_ref()),
            created_at: issued,
            last_seen_at: issued,
            expires_at: issued + idle,
        },
        user: None,
    }
}

/// Browser sessions over the database, with the cookie's attributes from the issuer.
#[derive(Clone)]
pub struct Sessions {
    store: Store,
    settings: Arc<Settings>,
}

impl Sessions {
    pub fn new(store: Store, settings: Arc<Settings>) -> Self {
        Self { store, settings }
    }

    /// The session cookie's name: `__Host-` prefixed when the issuer is https (SEC-49).
    pub fn cookie_name(&self) -> &'static str {
        if self.settings.issuer_is_https() {
            "__Host-irongate_session"
        } else {
            "irongate_session"
        }
    }

    /// The device cookie's name (`__Host-` prefixed when the issuer is https).
    fn device_cookie_name(&self) -> &'static str {
        if self.settings.issuer_is_https() {
            "__Host-irongate_device"
        } else {
            "irongate_device"
        }
    }

    /// The device cookie this request presents (`auth::device` checks it), if any.
    pub fn presented_device(&self, req: &HttpRequest) -> Option<String> {
        let cookie = req.cookie(self.device_cookie_name())?;
        let value = cookie.value();
        (!value.is_empty() && value.len() <= 128).then(|| value.to_owned())
    }

    /// The device cookie carrying `value`: HttpOnly, SameSite=Lax, for as long as it is good.
    pub fn device_cookie(&self, value: String) -> Cookie<'static> {
        super::site_cookie(
            self.device_cookie_name(),
            value,
            self.settings.issuer_is_https(),
        )
        .max_age(actix_web::cookie::time::Duration::seconds(
            crate::auth::device::LIFETIME_SECS,
        ))
        .finish()
    }

    /// The cookie value this request presents; None when absent or absurd.
    fn presented_value(&self, req: &HttpRequest) -> Option<String> {
        let cookie = req.cookie(self.cookie_name())?;
        let value = cookie.value();
        (!value.is_empty() && value.len() <= 128).then(|| value.to_owned())
    }

    /// Loads the request's session. An expired, idle, or orphaned one (disabled user, changed
    /// security stamp) is deleted and reads as none; a pre-login cookie (its value has a `.`) names
    /// a pre-login session while it is young enough, and is never looked up.
    pub async fn current(&self, req: &HttpRequest) -> Result<Option<Current>, StoreError> {
        let Some(value) = self.presented_value(req) else {
            return Ok(None);
        };
        // Stored sessions' values are plain base64url; a `.` marks a pre-login cookie, which no
        // lookup would find.
        if value.contains('.') {
            return Ok(self.anonymous(&value));
        }
        let hash = secrets::hash_secret(&value);
        let idle = self.settings.sessions.idle_timeout as i64;
        self.store
            .run(move |c| {
                let Some(session) = store::find_session(c, &hash)? else {
                    return Ok(None);
                };
                let now = now();
                let mut alive = now < session.expires_at && now - session.last_seen_at <= idle;
                let mut user = None;
                if alive && let Some(user_id) = &session.user_id {
                    user = store::find_user_by_id(c, user_id)?.filter(|u| {
                        u.is_active
                            && session.stamp_digest.as_deref()
                                == Some(&stamp_digest(&u.security_stamp))
                    });
                    alive = user.is_some();
                }
                if !alive {
                    store::delete_session(c, &hash)?;
                    return Ok(None);
                }
                if now - session.last_seen_at >= TOUCH_EVERY.min(idle / 2) {
                    store::touch_session(c, &hash, now)?;
                }
                Ok(Some(Current { session, user }))
            })
            .await
    }

    /// The pre-login session a cookie value names (256 random bits, `.`, the unix time it was
    /// issued), while it is younger than the idle timeout.
    fn anonymous(&self, value: &str) -> Option<Current> {
        let issued: i64 = value.rsplit_once('.')?.1.parse().ok()?;
        let idle = self.settings.sessions.idle_timeout as i64;
        let now = now();
        // A range test: no arithmetic on the presented number, so no overflow.
        (now - idle..=now + CLOCK_SKEW)
            .contains(&issued)
            .then(|| pre_login(value, issued, idle))
    }

    /// Whether a form POST says it comes from another site: `Sec-Fetch-Site: cross-site` (sent
    /// by browsers whatever the referrer policy), or an `Origin` that is neither irongate's own nor
    /// `null` (browsers send `null` from our own pages, whose `Referrer-Policy` is `no-referrer`).
    /// Such a POST is refused before its CSRF token is looked at (SEC-52); the token remains the
    /// defence for requests that say neither.
    pub fn from_another_site(&self, req: &HttpRequest) -> bool {
        let headers = req.headers();
        if headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
        {
            return true;
        }
        let Some(origin) = headers.get(actix_web::http::header::ORIGIN) else {
            return false;
        };
        let Ok(origin) = origin.to_str() else {
            return true;
        };
        origin != "null" && !origin.eq_ignore_ascii_case(&self.settings.issuer_origin())
    }

    /// A new signed-in session for `user`, and the cookie value that names it.
    fn new_session(&self, user: &User) -> (Session, String) {
        let value = secrets::random_token(32);
        let now = now();
        let session = Session {
            id_hash: secrets::hash_secret(&value),
            sid: secrets::random_token(16),
            user_id: Some(user.id.clone()),
            stamp_digest: Some(stamp_digest(&user.security_stamp)),
            auth_time: Some(now),
            csrf_secret: secrets::random_token(32),
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.settings.sessions.lifetime as i64,
        };
        (session, value)
    }

    /// Starts a pre-login session (it binds the login form's CSRF token); nothing is stored.
    fn start_anonymous(&self) -> (Current, Cookie<'static>) {
        let issued = now();
        let value = format!("{}.{issued}", secrets::random_token(32));
        let idle = self.settings.sessions.idle_timeout as i64;
        (pre_login(&value, issued, idle), self.cookie(value))
    }

    /// Ends a session.
    pub async fn end(&self, current: &Current) -> Result<(), StoreError> {
        let hash = current.session.id_hash.clone();
        self.store
            .run(move |c| store::delete_session(c, &hash))
            .await
    }

    fn cookie(&self, value: String) -> Cookie<'static> {
        super::site_cookie(self.cookie_name(), value, self.settings.issuer_is_https()).finish()
    }

    /// A cookie that removes the session cookie from the browser.
    fn removal(&self) -> Cookie<'static> {
        let mut c = self.cookie(String::new());
        c.make_removal();
        c
    }

    /// The removal cookie, when the request presented a session cookie. A response must not clear
    /// a cookie that did not come with its request: a cross-site POST arrives without the
    /// `SameSite=Lax` cookie, and clearing it then would let any site sign users out.
    pub fn removal_if_presented(&self, req: &HttpRequest) -> Vec<Cookie<'static>> {
        match req.cookie(self.cookie_name()) {
            Some(_) => vec![self.removal()],
            None => vec![],
        }
    }

    /// The pre-login session to show a login form with: `current` while it has more than half of
    /// its life left, otherwise a new one (and the cookie naming it), so that a form shown to an
    /// active visitor does not expire under them.
    pub fn fresh_pre_login(&self, current: Option<Current>) -> (Current, Option<Cookie<'static>>) {
        let idle = self.settings.sessions.idle_timeout as i64;
        match current {
            Some(c) if c.user.is_some() || now() - c.session.created_at <= idle / 2 => (c, None),
            _ => {
                let (c, cookie) = self.start_anonymous();
                (c, Some(cookie))
            }
        }
    }

    /// Signs `user` in: a new session replaces the presented one, whose cookie stops working
    /// (SEC-50).
    pub async fn sign_in(
        &self,
        previous: Option<&Current>,
        user: &User,
    ) -> Result<(Current, Cookie<'static>), StoreError> {
        let (session, value) = self.new_session(user);
        // Only a signed-in session has a row to replace; a pre-login one was never stored.
        let old = previous
            .filter(|p| p.user.is_some())
            .map(|p| p.session.id_hash.clone());
        let row = session.clone();
        self.store
            .run(move |c| store::replace_session(c, old.as_deref(), &row))
            .await?;
        Ok((
            Current {
                session,
                user: Some(user.clone()),
            },
            self.cookie(value),
        ))
    }

    /// Whether `sid` names a live session.
    pub async fn live_by_sid(&self, sid: String) -> Result<bool, StoreError> {
        let now = now();
        self.store
            .run(move |c| store::session_live_by_sid(c, &sid, now))
            .await
    }
}
