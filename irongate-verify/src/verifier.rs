//! The verifier: built from the issuer URL and the expected audience, it finds the endpoints
//! through discovery, verifies access tokens with the cached keys, follows the revocation feed
//! and exchanges API keys, when configured.

use crate::caller::Caller;
use crate::claims::{self, AccessClaims, unix_now};
use crate::error::Rejection;
use crate::feed::Feed;
use crate::keys::{KeyCache, KeyError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The subject token type of an irongate API key (RFC 8693 token exchange).
const API_KEY_TOKEN_TYPE: &str = "urn:irongate:params:oauth:token-type:api_key";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// An exchanged token is used until this long before its `exp`.
const EXCHANGE_MARGIN: i64 = 30;
/// At most this many exchanged tokens are cached (then the cache starts again).
const EXCHANGE_CACHE_MAX: usize = 10_000;
/// Presented tokens longer than this are refused unread.
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Why a verifier could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("discovery at {0}: {1}")]
    Discovery(String, String),
    #[error("missing: {0}")]
    Missing(&'static str),
    #[error("{0}")]
    Http(String),
}

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: String,
    token_endpoint: Option<String>,
    revocation_feed_endpoint: Option<String>,
}

/// How a [`Verifier`] is built.
pub struct Builder {
    issuer: String,
    audience: String,
    leeway: u64,
    client: Option<(String, String)>,
    feed: Option<(Duration, Duration)>,
    api_keys: bool,
    cookie: Option<String>,
    timeout: Duration,
    jwks_uri: Option<String>,
}

impl Builder {
    /// Fetches the keys from `url` instead of the `jwks_uri` discovery names (a URL inside the
    /// network, say).
    pub fn jwks_uri(mut self, url: impl Into<String>) -> Self {
        self.jwks_uri = Some(url.into());
        self
    }

    /// Seconds of leeway for `exp` and `nbf` (default 30).
    pub fn leeway(mut self, secs: u64) -> Self {
        self.leeway = secs;
        self
    }

    /// A confidential client's credentials, for the revocation feed and API keys.
    pub fn client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.client = Some((id.into(), secret.into()));
        self
    }

    /// Follows the revocation feed every `every`; refuses every token once the last good poll
    /// is older than `bound`. Needs [`client`](Self::client).
    pub fn revocation_feed(mut self, every: Duration, bound: Duration) -> Self {
        self.feed = Some((every, bound));
        self
    }

    /// Accepts API keys (`X-API-Key`, or `igk_…` as a bearer token), exchanged for access
    /// tokens with the client's credentials. Needs [`client`](Self::client).
    pub fn api_keys(mut self) -> Self {
        self.api_keys = true;
        self
    }

    /// Also reads the token from this cookie (for browser apps keeping it in an HttpOnly one).
    pub fn cookie(mut self, name: impl Into<String>) -> Self {
        self.cookie = Some(name.into());
        self
    }

    /// Timeout of every request to the issuer (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Reads the issuer's discovery document and starts the feed.
    pub async fn build(self) -> Result<Verifier, BuildError> {
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| BuildError::Http(e.to_string()))?;
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let fail = |e: String| BuildError::Discovery(url.clone(), e);
        let resp = http
            .get(&url)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(fail(resp.status().to_string()));
        }
        let meta: Metadata = resp.json().await.map_err(|e| fail(e.to_string()))?;
        if meta.issuer != self.issuer {
            return Err(fail(format!("it names the issuer {:?}", meta.issuer)));
        }
        if self.client.is_none() && (self.feed.is_some() || self.api_keys) {
            return Err(BuildError::Missing(
                "client credentials (.client) for the revocation feed and API keys",
            ));
        }
        let feed = match (self.feed, &self.client) {
            (Some((every, bound)), Some(credentials)) => {
                let url = meta
                    .revocation_feed_endpoint
                    .clone()
                    .ok_or(BuildError::Missing("the issuer's revocation_feed_endpoint"))?;
                let feed = Feed::start(url, credentials.clone(), http.clone(), every, bound);
                // A first poll now, so that a verifier starts usable.
                if let Err(e) = feed.poll().await {
                    tracing::warn!(error = %e, "the first poll of the revocation feed failed");
                }
                Some(feed)
            }
            _ => None,
        };
        let exchange = match (self.api_keys, self.client) {
            (true, Some(credentials)) => Some(Exchange {
                token_endpoint: meta
                    .token_endpoint
                    .clone()
                    .ok_or(BuildError::Missing("the issuer's token_endpoint"))?,
                credentials,
                cache: Mutex::default(),
                refused: Mutex::default(),
            }),
            _ => None,
        };
        Ok(Verifier {
            rules: claims::Rules {
                issuer: self.issuer.clone(),
                audience: self.audience.clone(),
                leeway: self.leeway,
            },
            keys: KeyCache::new(self.jwks_uri.unwrap_or(meta.jwks_uri), http.clone()),
            http,
            feed,
            exchange,
            cookie: self.cookie,
        })
    }
}

/// API keys exchanged for access tokens, cached by the key's SHA-256 until shortly before the
/// token's `exp`.
struct Exchange {
    token_endpoint: String,
    credentials: (String, String),
    cache: Mutex<HashMap<[u8; 32], (String, i64)>>,
    /// Keys irongate refused lately, by hash: not asked about again for `REFUSED_FOR`.
    refused: Mutex<HashMap<[u8; 32], i64>>,
}

/// How long a refused API key is refused without asking irongate again (seconds).
const REFUSED_FOR: i64 = 30;

/// Verifies irongate's access tokens (and API keys) for one audience.
pub struct Verifier {
    rules: claims::Rules,
    keys: KeyCache,
    http: reqwest::Client,
    feed: Option<Arc<Feed>>,
    exchange: Option<Exchange>,
    cookie: Option<String>,
}

impl Verifier {
    /// A verifier for tokens of `issuer` (exactly as its `iss`) meant for `audience`.
    pub fn builder(issuer: impl Into<String>, audience: impl Into<String>) -> Builder {
        Builder {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway: 30,
            client: None,
            feed: None,
            api_keys: false,
            cookie: None,
            timeout: Duration::from_secs(5),
            jwks_uri: None,
        }
    }

    /// The cookie the token may come in, if configured.
    pub fn cookie_name(&self) -> Option<&str> {
        self.cookie.as_deref()
    }

    /// Whether API keys are accepted.
    pub fn accepts_api_keys(&self) -> bool {
        self.exchange.is_some()
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_fetches(&self) -> u64 {
        self.keys.fetches()
    }

    /// Polls the revocation feed now (it is also polled on its own).
    pub async fn poll_revocations(&self) -> Result<(), String> {
        match &self.feed {
            Some(feed) => feed.poll().await,
            None => Ok(()),
        }
    }

    /// Verifies an access token: RS256 by a published key, `typ` `at+jwt`, issuer, audience,
    /// `exp`/`nbf` with the leeway, and the revocation feed when followed.
    pub async fn verify(&self, token: &str) -> Result<Caller, Rejection> {
        self.verify_claims(token).await.map(Caller::from)
    }

    /// [`verify`](Self::verify), answering the token's claims.
    pub async fn verify_claims(&self, token: &str) -> Result<AccessClaims, Rejection> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(Rejection::invalid_token("the access token is too long"));
        }
        let invalid = || Rejection::invalid_token("the access token is invalid");
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != jsonwebtoken::Algorithm::RS256 {
            return Err(Rejection::invalid_token(
                "only RS256 access tokens are accepted",
            ));
        }
        if !claims::is_access_token_typ(header.typ.as_deref()) {
            return Err(Rejection::invalid_token("the token is not an access token"));
        }
        let kid = header.kid.ok_or_else(invalid)?;
        let key = match self.keys.key(&kid).await {
            Ok(key) => key,
            Err(KeyError::Unknown) => {
                return Err(Rejection::invalid_token(
                    "the token's signing key is unknown",
                ));
            }
            Err(KeyError::NeverLoaded(e)) => {
                tracing::warn!(error = %e, "the issuer's keys could not be loaded");
                return Err(Rejection::Unavailable(
                    "the issuer's keys could not be loaded".into(),
                ));
            }
        };
        // The signature by the parsed key, then the claims by the shared rules.
        let (message, signature) = token.rsplit_once('.').ok_or_else(invalid)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| invalid())?;
        key.verify_sig(message.as_bytes(), &signature)
            .map_err(|_| invalid())?;
        let claims = jsonwebtoken::dangerous::insecure_decode::<AccessClaims>(token)
            .map_err(|_| invalid())?
            .claims;
        claims::check(&claims, &self.rules, unix_now()).map_err(|refused| {
            Rejection::invalid_token(match refused {
                claims::Refused::Expired => "the access token has expired",
                claims::Refused::NotYetValid => "the access token is not valid yet",
                claims::Refused::Issuer => "the access token is from another issuer",
                claims::Refused::Audience => "the access token is for another audience",
            })
        })?;
        if let Some(feed) = &self.feed {
            feed.check(&claims)?;
        }
        Ok(claims)
    }

    /// Verifies an API key: exchanged for an access token (cached until shortly before its
    /// `exp`), which is then verified like any.
    pub async fn verify_api_key(&self, key: &str) -> Result<Caller, Rejection> {
        let Some(exchange) = &self.exchange else {
            return Err(Rejection::invalid_token("API keys are not accepted here"));
        };
        if key.len() > 128 || !key.starts_with("igk_") {
            return Err(Rejection::invalid_token("the API key is invalid"));
        }
        let hash: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let now = unix_now();
        let cached = exchange
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&hash)
            .filter(|(_, exp)| now < exp - EXCHANGE_MARGIN)
            .map(|(token, _)| token.clone());
        let refused_lately = exchange
            .refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&hash)
            .is_some_and(|until| now < *until);
        if refused_lately {
            return Err(Rejection::invalid_token(
                "the API key is invalid, expired or revoked",
            ));
        }
        let token = match cached {
            Some(token) => token,
            None => self.exchange(exchange, key, hash).await?,
        };
        self.verify(&token).await
    }

    async fn exchange(
        &self,
        exchange: &Exchange,
        key: &str,
        hash: [u8; 32],
    ) -> Result<String, Rejection> {
        let resp = self
            .http
            .post(&exchange.token_endpoint)
            .basic_auth(&exchange.credentials.0, Some(&exchange.credentials.1))
            .form(&[
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", key),
                ("subject_token_type", API_KEY_TOKEN_TYPE),
            ])
            .send()
            .await;
        let unavailable = |e: String| {
            tracing::warn!(error = %e, "exchanging an API key failed");
            Rejection::Unavailable("API keys cannot be checked right now".into())
        };
        let resp = resp.map_err(|e| unavailable(e.to_string()))?;
        let status = resp.status();
        if status.is_server_error() {
            return Err(unavailable(status.to_string()));
        }
        let body: serde_json::Value = resp.json().await.map_err(|e| unavailable(e.to_string()))?;
        let Some(token) = body["access_token"]
            .as_str()
            .filter(|_| status.is_success())
        else {
            let mut refused = exchange.refused.lock().unwrap_or_else(|e| e.into_inner());
            if refused.len() >= EXCHANGE_CACHE_MAX {
                refused.clear();
            }
            refused.insert(hash, unix_now().saturating_add(REFUSED_FOR));
            return Err(Rejection::invalid_token(
                "the API key is invalid, expired or revoked",
            ));
        };
        let exp = unix_now().saturating_add(body["expires_in"].as_i64().unwrap_or(0));
        let mut cache = exchange.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= EXCHANGE_CACHE_MAX {
            cache.clear();
        }
        cache.insert(hash, (token.to_owned(), exp));
        Ok(token.to_owned())
    }
}
