//! The one module that speaks OpenID Connect to the upstream provider, through the
//! `openidconnect` crate: discovery of `google.issuer` (cached, refreshed hourly), the
//! authorization request (code flow, PKCE S256, `state`, `nonce`), the code exchange, the ID
//! token's verification (signature by the provider's JWKS, re-fetched once when a token names an
//! unknown key, at most every few seconds; issuer, audience, `azp`, expiry, `nonce`), and the
//! userinfo request when the ID token lacks the email.
//!
//! Outbound requests go only to the configured issuer's discovery document and the endpoints it
//! lists (SEC-67): nothing a token or a browser presents is ever fetched (`jku`, `x5u` are
//! ignored). The HTTP client follows no redirects and gives up after a few seconds (REL-12).

mod cache;

use crate::config::GoogleSettings;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdTokenVerifier, CoreJsonWebKeySet,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError,
    Scope, SignatureVerificationError, TokenResponse, reqwest,
};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long discovery (with the keys) is trusted before it is fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// After a failed refresh, the stale metadata serves this long before the next try.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60);
/// An ID token naming an unknown key makes irongate fetch the keys again, at most this often.
const KEY_REFETCH_EVERY: Duration = Duration::from_secs(5);
/// Per request to the provider (REL-12).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// For a whole start or callback, however many requests it makes (REL-12).
const OVERALL_TIMEOUT: Duration = Duration::from_secs(10);
/// After discovery failed slowly (a hanging or unreachable provider) with no copy to fall back
/// on, requests fail at once for this long instead of queueing behind new attempts (REL-12).
const FAIL_FAST_FOR: Duration = Duration::from_secs(10);
/// A discovery failure this slow or slower makes the requests after it fail fast.
const SLOW_FAILURE: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Google writes its issuer both ways in ID tokens.
const GOOGLE_ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];

/// Claims of the ID token beyond the standard ones: Google's hosted domain.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ProviderClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hd: Option<String>,
}

impl AdditionalClaims for ProviderClaims {}

/// A client built from discovery: authorization endpoint set, token and userinfo endpoints as
/// the provider lists them.
type DiscoveredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

type ProviderIdToken = IdToken<
    ProviderClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// Who the provider says signed in, after every check.
#[derive(Debug, Clone)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// Google's hosted domain (`hd`), lowercase.
    pub hosted_domain: Option<String>,
}

/// A sign-in to start at the provider: where to send the browser, and what to keep for the
/// callback.
#[derive(Debug)]
pub struct Begin {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// Why the provider's part failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// Not reachable, too slow, or answering with something unusable (REL-12).
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the code (an OAuth error response).
    #[error("the provider refused: {0}")]
    Refused(String),
    /// The ID token or the userinfo answer failed verification (SEC-65).
    #[error("the provider's answer failed verification: {0}")]
    Invalid(String),
}

/// Discovery and keys, as last fetched.
struct Discovered {
    metadata: CoreProviderMetadata,
    keys: CoreJsonWebKeySet,
    /// When the metadata is due again.
    due: Instant,
    keys_fetched: Instant,
}

/// The upstream OpenID provider.
pub struct Upstream {
    client_id: ClientId,
    client_secret: ClientSecret,
    issuer: IssuerUrl,
    /// The `iss` values accepted in ID tokens.
    issuers: Vec<String>,
    redirect: RedirectUrl,
    http: reqwest::Client,
    cache: RwLock<Option<Arc<Discovered>>>,
    /// One fetch at a time; the others wait for its result.
    fetching: tokio::sync::Mutex<()>,
    /// When discovery last failed slowly with nothing cached.
    failed_at: std::sync::Mutex<Option<Instant>>,
}

impl Upstream {
    /// For `google`, sending browsers back to `callback`.
    pub fn new(google: &GoogleSettings, callback: String) -> anyhow::Result<Self> {
        let issuer = IssuerUrl::new(google.issuer.clone())?;
        let mut issuers = vec![google.issuer.clone()];
        if GOOGLE_ISSUERS.contains(&google.issuer.as_str()) {
            issuers = GOOGLE_ISSUERS.iter().map(|s| (*s).to_owned()).collect();
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()?;
        Ok(Self {
            client_id: ClientId::new(google.client_id.clone()),
            client_secret: ClientSecret::new(google.client_secret.clone()),
            issuer,
            issuers,
            redirect: RedirectUrl::new(callback)?,
            http,
            cache: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
            failed_at: std::sync::Mutex::new(None),
        })
    }

    /// Whether the provider is Google itself (its rules on authoritative emails apply).
    pub fn is_google(&self) -> bool {
        GOOGLE_ISSUERS.contains(&self.issuer.as_str())
    }

    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    fn client(&self, d: &Discovered) -> DiscoveredClient {
        CoreClient::from_provider_metadata(
            d.metadata.clone(),
            self.client_id.clone(),
            Some(self.client_secret.clone()),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// A new sign-in at the provider: fresh `state`, `nonce` and PKCE (S256) (SEC-64).
    pub async fn begin(&self) -> Result<Begin, UpstreamError> {
        tokio::time::timeout(OVERALL_TIMEOUT, self.begin_inner())
            .await
            .unwrap_or_else(|_| Err(UpstreamError::Unavailable("took too long".into())))
    }

    async fn begin_inner(&self) -> Result<Begin, UpstreamError> {
        let d = self.discovered().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = self
            .client(&d)
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Begin {
            url: url.into(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges `code` (with the PKCE `verifier`) and verifies the ID token against `nonce`.
    pub async fn finish(
        &self,
        code: String,
        verifier: String,
        nonce: String,
    ) -> Result<Identity, UpstreamError> {
        tokio::time::timeout(OVERALL_TIMEOUT, self.finish_inner(code, verifier, nonce))
            .await
            .unwrap_or_else(|_| Err(UpstreamError::Unavailable("took too long".into())))
    }

    async fn finish_inner(
        &self,
        code: String,
        verifier: String,
        nonce: String,
    ) -> Result<Identity, UpstreamError> {
        let d = self.discovered().await?;
        let client = self.client(&d);
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| UpstreamError::Unavailable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => {
                    UpstreamError::Refused(r.error().to_string())
                }
                RequestTokenError::Request(e) => UpstreamError::Unavailable(e.to_string()),
                RequestTokenError::Parse(e, _) => {
                    UpstreamError::Unavailable(format!("token response: {e}"))
                }
                RequestTokenError::Other(e) => UpstreamError::Unavailable(e),
            })?;
        let raw = response
            .id_token()
            .ok_or_else(|| UpstreamError::Invalid("the token response has no ID token".into()))?
            .to_string();
        let token: ProviderIdToken = raw
            .parse()
            .map_err(|e| UpstreamError::Invalid(format!("the ID token: {e}")))?;
        let nonce = Nonce::new(nonce);
        let mut keys = d;
        let mut refetched = false;
        let claims = loop {
            let verified = {
                let verifier = self.verifier(&keys);
                token.claims(&verifier, &nonce).cloned()
            };
            match verified {
                Ok(claims) => break claims,
                Err(ClaimsVerificationError::SignatureVerification(
                    SignatureVerificationError::NoMatchingKey,
                )) if !refetched => {
                    refetched = true;
                    match self.refetch_keys(&keys).await {
                        Some(fresh) => keys = fresh,
                        None => {
                            return Err(UpstreamError::Invalid(
                                "the ID token is signed with a key the provider does not publish"
                                    .into(),
                            ));
                        }
                    }
                }
                Err(e) => return Err(UpstreamError::Invalid(e.to_string())),
            }
        };
        if !self.issuers.iter().any(|i| i == claims.issuer().as_str()) {
            return Err(UpstreamError::Invalid(format!(
                "the ID token's issuer {:?} is not the provider",
                claims.issuer().as_str()
            )));
        }
        // OpenID Connect Core §3.1.3.7 (4, 5): with several audiences, the token must say it was
        // issued to this client.
        let azp = claims.authorized_party().map(|a| a.as_str());
        if azp.is_some_and(|a| a != self.client_id.as_str())
            || (claims.audiences().len() > 1 && azp.is_none())
        {
            return Err(UpstreamError::Invalid(
                "the ID token was issued to another party (azp)".into(),
            ));
        }
        let verified_claim = claims.email_verified();
        let mut identity = Identity {
            issuer: self.issuer.as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
            hosted_domain: claims
                .additional_claims()
                .hd
                .as_ref()
                .map(|d| d.to_ascii_lowercase()),
        };
        // OpenID Connect Core §5.4: the email, its verification and the name may come from the
        // userinfo endpoint instead. The name is a nicety: without it the sign-in goes on.
        let email_missing = identity.email.is_none() || verified_claim.is_none();
        if (email_missing || identity.name.is_none()) && client.user_info_url().is_some() {
            let token = response.access_token().clone();
            match self
                .add_userinfo(&client, token, &mut identity, email_missing)
                .await
            {
                Err(e) if email_missing => return Err(e),
                Err(e) => tracing::warn!(error = %e, "could not read the name from userinfo"),
                Ok(()) => {}
            }
        }
        Ok(identity)
    }

    /// An ID token verifier over `d`'s keys: asymmetric algorithms only (never `none` nor a
    /// MAC keyed by the client secret); the issuer is checked by the caller (Google's two
    /// spellings); other audiences are allowed here and checked through `azp`.
    fn verifier<'a>(&'a self, d: &'a Discovered) -> CoreIdTokenVerifier<'a> {
        CoreIdTokenVerifier::new_public_client(
            self.client_id.clone(),
            self.issuer.clone(),
            d.keys.clone(),
        )
        .set_allowed_algs([
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
            CoreJwsSigningAlgorithm::RsaSsaPssSha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        ])
        .require_issuer_match(false)
        .set_other_audience_verifier_fn(|_| true)
    }

    async fn add_userinfo(
        &self,
        client: &DiscoveredClient,
        access_token: openidconnect::AccessToken,
        identity: &mut Identity,
        with_email: bool,
    ) -> Result<(), UpstreamError> {
        let subject = openidconnect::SubjectIdentifier::new(identity.subject.clone());
        let request = client
            .user_info(access_token, Some(subject))
            .map_err(|e| UpstreamError::Unavailable(format!("userinfo: {e}")))?;
        let info: CoreUserInfoClaims =
            request
                .request_async(&self.http)
                .await
                .map_err(|e| match e {
                    openidconnect::UserInfoError::ClaimsVerification(e) => {
                        UpstreamError::Invalid(format!("userinfo: {e}"))
                    }
                    other => UpstreamError::Unavailable(format!("userinfo: {other}")),
                })?;
        if with_email {
            identity.email = info.email().map(|e| e.as_str().to_owned());
            identity.email_verified = info.email_verified().unwrap_or(false);
        }
        if identity.name.is_none() {
            identity.name = info
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned());
        }
        Ok(())
    }
}

/// A discovery or key fetch error, with what lies beneath it.
fn describe<E: std::error::Error>(e: &E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(issuer: &str) -> GoogleSettings {
        GoogleSettings {
            client_id: "id".into(),
            client_secret: "secret".into(),
            issuer: issuer.into(),
            allowed_domains: vec![],
        }
    }

    /// SEC-65: Google writes its issuer two ways; any other provider is held to its own.
    #[test]
    fn google_is_accepted_in_both_spellings_others_in_their_own() {
        let callback = "https://id.example.com/login/google/callback".to_owned();
        let google =
            Upstream::new(&settings("https://accounts.google.com"), callback.clone()).unwrap();
        assert!(google.is_google());
        assert_eq!(
            google.issuers,
            ["https://accounts.google.com", "accounts.google.com"]
        );
        let other = Upstream::new(&settings("https://login.example.org"), callback).unwrap();
        assert!(!other.is_google());
        assert_eq!(other.issuers, ["https://login.example.org"]);
    }
}
