//! Client authentication at the token endpoint (RFC 6749 §2.3): `client_secret_basic`,
//! `client_secret_post`, or `none` for public clients. Exactly one method per request.

use super::error::{ErrorCode, OAuthError, Reason};
use super::form::Form;
use crate::auth::secrets;
use crate::store::{self, Client, Store, StoreError};
use base64::Engine;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a client record read from the database is reused. Unknown ids are never cached, so
/// a new client is seen at once; a rotated secret or a deleted client is forgotten at once by
/// the node that changed it and within a second by the others (the admin API's "the old secret
/// dead at once"). Under load the cache still saves all but one database read per second per
/// client.
const CLIENT_CACHE_TTL: Duration = Duration::from_secs(1);
const CLIENT_CACHE_MAX: usize = 10_000;

/// Registered clients: found by id through a short cache, and authenticated.
#[derive(Clone)]
pub struct Clients {
    store: Store,
    cache: Arc<Mutex<HashMap<String, (Client, Instant)>>>,
}

impl Clients {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            cache: Arc::default(),
        }
    }

    /// The client with this id, if any.
    pub async fn find(&self, id: &str) -> Result<Option<Client>, StoreError> {
        // Client ids are short printable strings; anything else names no client (and a NUL
        // byte would be refused by PostgreSQL as an error, not a miss).
        if id.is_empty() || id.len() > 256 || id.chars().any(char::is_control) {
            return Ok(None);
        }
        if let Some((client, at)) = self.lock().get(id)
            && at.elapsed() < CLIENT_CACHE_TTL
        {
            return Ok(Some(client.clone()));
        }
        let key = id.to_owned();
        let found = self.store.run(move |c| store::find_client(c, &key)).await?;
        if let Some(client) = &found {
            let mut map = self.lock();
            if map.len() >= CLIENT_CACHE_MAX {
                map.clear();
            }
            map.insert(id.to_owned(), (client.clone(), Instant::now()));
        }
        Ok(found)
    }

    /// Drops the cached record of `id` (its secret was rotated, or it was deleted): this node
    /// reads it afresh at its next use; other nodes within `CLIENT_CACHE_TTL`.
    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Client, Instant)>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Authenticates the client of a token-endpoint request. Unknown clients and wrong
    /// secrets get the same answer (SEC-25); secrets are compared in constant time (SEC-26).
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        form: &Form,
    ) -> Result<Client, OAuthError> {
        let presented = parse(authorization, form)?;
        let (id, secret, basic) = match &presented {
            Presented::Basic { id, secret } => (id.clone(), Some(secret.clone()), true),
            Presented::Post { id, secret } => (id.clone(), Some(secret.clone()), false),
            Presented::None { id } => (id.clone(), None, false),
        };
        if id.is_empty() || id.len() > 256 {
            return Err(invalid_client(basic));
        }
        let client = self.find(&id).await?;
        match (client, secret) {
            (Some(client), Some(secret)) => match &client.secret_hash {
                Some(hash) if secrets::verify_secret(&secret, hash) => Ok(client),
                _ => Err(invalid_client(basic)),
            },
            (Some(client), None) if client.is_public => Ok(client),
            (None, Some(secret)) => {
                // Same work as for a known client, so timing does not reveal which ids exist.
                secrets::verify_secret(&secret, "unknown-client");
                Err(invalid_client(basic))
            }
            _ => Err(invalid_client(basic)),
        }
    }
}

/// What the request presented.
enum Presented {
    Basic { id: String, secret: String },
    Post { id: String, secret: String },
    None { id: String },
}

fn invalid_client(basic: bool) -> OAuthError {
    let e = OAuthError::new(ErrorCode::InvalidClient, "client authentication failed");
    if basic {
        e.with_reason(Reason::BasicAuthFailed)
    } else {
        e
    }
}

fn parse(authorization: Option<&str>, form: &Form) -> Result<Presented, OAuthError> {
    let body_secret = form.get("client_secret");
    if let Some(header) = authorization {
        let (scheme, value) = header.split_once(' ').unwrap_or((header, ""));
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(invalid_client(true));
        }
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| invalid_client(true))?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(|| invalid_client(true))?;
        // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
        let decode = |s: &str| {
            if !s.contains(['%', '+', '&', '=']) {
                // Nothing to decode (the usual case): the part as it is.
                return Some(s.to_owned());
            }
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        let (id, secret) = (
            decode(id).unwrap_or_default(),
            decode(secret).unwrap_or_default(),
        );
        if let Some(body_id) = form.get("client_id")
            && body_id != id
        {
            return Err(OAuthError::invalid_request(
                "client_id differs from the authenticated client",
            ));
        }
        return Ok(Presented::Basic { id, secret });
    }
    let id = form
        .get("client_id")
        .ok_or_else(|| invalid_client(false))?
        .to_owned();
    Ok(match body_secret {
        Some(secret) => Presented::Post {
            id,
            secret: secret.to_owned(),
        },
        None => Presented::None { id },
    })
}
