//! Browser sessions: a random cookie naming a server-side session (stored as a SHA-256), with
//! idle and absolute timeouts, a new identifier at every sign-in, and an end as soon as the
//! user is disabled or logs out everywhere (the security stamp changes). CSRF tokens are HMACs
//! keyed by a per-session secret over what the form does, so a token is good only for its
//! session and its form (SEC-52, SEC-53).

use crate::auth::secrets;
use crate::oauth::interaction::SignedIn;
use crate::oauth::tokens::stamp_digest;
use crate::startup::AppState;
use crate::store::{self, Session, StoreError, User};
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How often `last_seen_at` is written at most (the idle timeout's resolution).
const TOUCH_EVERY: i64 = 60;

/// The session cookie's name: `__Host-` prefixed when the issuer is https (SEC-49).
pub fn cookie_name(state: &AppState) -> &'static str {
    if state.settings.issuer_is_https() {
        "__Host-irongate_session"
    } else {
        "irongate_session"
    }
}

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

/// The cookie value this request presents, hashed; None when absent or absurd.
fn presented_hash(state: &AppState, req: &HttpRequest) -> Option<String> {
    let cookie = req.cookie(cookie_name(state))?;
    let value = cookie.value();
    (!value.is_empty() && value.len() <= 128).then(|| secrets::hash_secret(value))
}

/// Loads the request's session. An expired, idle, or orphaned one (disabled user, changed
/// security stamp) is deleted and reads as none.
pub async fn current(state: &AppState, req: &HttpRequest) -> Result<Option<Current>, StoreError> {
    let Some(hash) = presented_hash(state, req) else {
        return Ok(None);
    };
    let idle = state.settings.session_idle_timeout as i64;
    state
        .store
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
                        && session.stamp_digest.as_deref() == Some(&stamp_digest(&u.security_stamp))
                });
                alive = user.is_some();
            }
            if !alive {
                store::delete_session(c, &hash)?;
                return Ok(None);
            }
            if now - session.last_seen_at >= TOUCH_EVERY {
                store::touch_session(c, &hash, now)?;
            }
            Ok(Some(Current { session, user }))
        })
        .await
}

/// A new session, and the cookie value that names it.
fn new_session(state: &AppState, user: Option<&User>, auth_time: Option<i64>) -> (Session, String) {
    let value = secrets::random_token(32);
    let now = now();
    let session = Session {
        id_hash: secrets::hash_secret(&value),
        sid: secrets::random_token(16),
        user_id: user.map(|u| u.id.clone()),
        stamp_digest: user.map(|u| stamp_digest(&u.security_stamp)),
        auth_time,
        csrf_secret: secrets::random_token(32),
        created_at: now,
        last_seen_at: now,
        expires_at: now + state.settings.session_lifetime as i64,
    };
    (session, value)
}

/// Starts an anonymous session (it binds the login form's CSRF token).
pub async fn start_anonymous(state: &AppState) -> Result<(Current, Cookie<'static>), StoreError> {
    let (session, value) = new_session(state, None, None);
    let row = session.clone();
    state
        .store
        .run(move |c| store::insert_session(c, &row))
        .await?;
    Ok((
        Current {
            session,
            user: None,
        },
        cookie(state, value),
    ))
}

/// Signs `user` in: a new session replaces the presented one, whose cookie stops working
/// (SEC-50).
pub async fn sign_in(
    state: &AppState,
    previous: Option<&Current>,
    user: &User,
) -> Result<(Current, Cookie<'static>), StoreError> {
    let (session, value) = new_session(state, Some(user), Some(now()));
    let old = previous.map(|p| p.session.id_hash.clone());
    let row = session.clone();
    state
        .store
        .run(move |c| store::replace_session(c, old.as_deref(), &row))
        .await?;
    Ok((
        Current {
            session,
            user: Some(user.clone()),
        },
        cookie(state, value),
    ))
}

/// Ends a session.
pub async fn end(state: &AppState, current: &Current) -> Result<(), StoreError> {
    let hash = current.session.id_hash.clone();
    state
        .store
        .run(move |c| store::delete_session(c, &hash))
        .await
}

fn cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(cookie_name(state), value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.issuer_is_https())
        .finish()
}

/// A cookie that removes the session cookie from the browser.
pub fn removal(state: &AppState) -> Cookie<'static> {
    let mut c = cookie(state, String::new());
    c.make_removal();
    c
}
