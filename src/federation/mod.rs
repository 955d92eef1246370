//! "Sign in with Google": an identity at the upstream provider (`upstream/`, the only module
//! that speaks OpenID Connect to it) becomes a local user by the CONTRACT's rules (SEC-66):
//! - linked by (issuer, `sub`), never by email alone; a disabled user is refused;
//! - an unknown identity whose email no user has → a new user without a password, only when
//!   the provider verified the email;
//! - an unknown identity whose email a user has → linked at once only when both sides verified
//!   the email, the provider is authoritative for it (Google: `@gmail.com`, or `hd` is the
//!   email's domain) and the user has no other identity there; otherwise after that user's
//!   password sign-in in the same browser;
//! - every link changes the user's security stamp (every session and token of theirs ends); the
//!   local email is never replaced by the provider's.

pub mod upstream;

use crate::auth::end_all::EndAll;
use crate::auth::rate_limit::Limiter;
use crate::auth::secrets;
use crate::config::GoogleSettings;
use crate::domain::Email;
use crate::ephemeral::Ephemeral;
use crate::store::{self, NewUser, Store, StoreError, User};
use std::net::IpAddr;
use std::time::Duration;
use upstream::Upstream;
pub use upstream::{Begin, Identity, UpstreamError};

/// How long a sign-in may take at the provider, and a used `state` is remembered (seconds).
pub const PENDING_STATE_SECS: u64 = 600;

/// Why a sign-in at the provider does not sign anyone in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The linked user, or the user the email names, is disabled.
    Disabled,
    /// No user has the email and the provider has not verified it.
    EmailUnverified,
    /// The provider gave no usable email.
    NoEmail,
    /// `hd` is not in `google.allowed_domains`.
    DomainNotAllowed,
    /// A user with the email exists who has no password to prove themselves with.
    CannotLink,
}

impl Refusal {
    /// What the error page says (never the provider's values).
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Disabled => "This account is disabled.",
            Refusal::EmailUnverified => {
                "Your Google account's email address is not verified. Verify it with Google, or sign in with a password."
            }
            Refusal::NoEmail => "Your Google account did not share a usable email address.",
            Refusal::DomainNotAllowed => {
                "Accounts of your Google Workspace domain may not sign in here."
            }
            Refusal::CannotLink => {
                "An account with your email address already exists and cannot be linked to this Google account automatically."
            }
        }
    }
}

/// What a sign-in at the provider comes to.
#[derive(Debug)]
pub enum Outcome {
    /// This user signs in (linked already, or just created or linked).
    SignIn(User),
    /// A user with the email exists; the identity is linked once they sign in with their
    /// password in this browser.
    LinkWithPassword {
        issuer: String,
        subject: String,
        user_id: String,
        email: String,
    },
    Refused(Refusal),
}

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The federation service; present when `google.*` is configured.
pub struct Federation {
    upstream: Upstream,
    allowed_domains: Vec<String>,
    store: Store,
    end_all: EndAll,
    limiter: Limiter,
    ephemeral: Ephemeral,
}

/// What the federation service is built from besides its settings.
pub struct Parts {
    pub store: Store,
    pub end_all: EndAll,
    pub limiter: Limiter,
    pub ephemeral: Ephemeral,
}

impl Federation {
    /// For `google`, with the callback `callback` (`{issuer}/login/google/callback`).
    pub fn new(google: &GoogleSettings, callback: String, parts: Parts) -> anyhow::Result<Self> {
        Ok(Self {
            upstream: Upstream::new(google, callback)?,
            allowed_domains: google.allowed_domains.clone(),
            store: parts.store,
            end_all: parts.end_all,
            limiter: parts.limiter,
            ephemeral: parts.ephemeral,
        })
    }

    /// Counts a callback against the sign-in limits of its IP; how long to wait when full.
    pub async fn admit(&self, ip: IpAddr) -> Result<(), Duration> {
        self.limiter.begin_without_username(ip).await
    }

    /// True the first time a callback presents `state`, false for a replay (SEC-64).
    pub async fn claim_state(&self, state: &str) -> bool {
        let key = format!("upstream-state:{}", secrets::hash_secret(state));
        self.ephemeral
            .claim_once(&key, Duration::from_secs(PENDING_STATE_SECS))
            .await
    }

    /// Starts a sign-in at the provider.
    pub async fn begin(&self) -> Result<Begin, UpstreamError> {
        self.upstream.begin().await
    }

    /// Completes a sign-in at the provider and applies the linking rules.
    pub async fn finish(
        &self,
        code: String,
        verifier: String,
        nonce: String,
    ) -> Result<Outcome, FederationError> {
        let identity = self.upstream.finish(code, verifier, nonce).await?;
        if !self.allowed_domains.is_empty()
            && !identity
                .hosted_domain
                .as_ref()
                .is_some_and(|hd| self.allowed_domains.contains(hd))
        {
            return Ok(Outcome::Refused(Refusal::DomainNotAllowed));
        }
        // Two tries: a user or link made by a parallel sign-in between the look and the write
        // is found the second time.
        for _ in 0..2 {
            match self.resolve(&identity).await {
                Err(FederationError::Store(StoreError::Conflict(_))) => continue,
                other => return other,
            }
        }
        self.resolve(&identity).await
    }

    async fn resolve(&self, identity: &Identity) -> Result<Outcome, FederationError> {
        let (issuer, subject) = (identity.issuer.clone(), identity.subject.clone());
        let linked = self
            .store
            .run(move |c| {
                let Some(id) = store::find_identity(c, &issuer, &subject)? else {
                    return Ok(None);
                };
                store::find_user_by_id(c, &id)
            })
            .await?;
        if let Some(user) = linked {
            return Ok(if user.is_active {
                Outcome::SignIn(user)
            } else {
                Outcome::Refused(Refusal::Disabled)
            });
        }
        let Some(email) = identity.email.as_deref().and_then(|e| Email::parse(e).ok()) else {
            return Ok(Outcome::Refused(Refusal::NoEmail));
        };
        // An email the provider has not verified proves nothing: it neither makes a user nor
        // links to one, not even after a password (SEC-66 b), and nothing is told about
        // whether a user has it.
        if !identity.email_verified {
            return Ok(Outcome::Refused(Refusal::EmailUnverified));
        }
        let normalized = email.normalized();
        let issuer = identity.issuer.clone();
        let existing = self
            .store
            .run(move |c| {
                let Some(user) = store::find_user_by_email(c, &normalized)? else {
                    return Ok(None);
                };
                let other = store::has_identity_at(c, &user.id, &issuer)?;
                Ok(Some((user, other)))
            })
            .await?;
        let Some((user, has_other_identity)) = existing else {
            return self.create(identity, &email).await;
        };
        if !user.is_active {
            return Ok(Outcome::Refused(Refusal::Disabled));
        }
        if user.email_verified
            && authoritative(
                self.upstream.is_google(),
                &email,
                identity.hosted_domain.as_deref(),
            )
            && !has_other_identity
        {
            let user = self.link(&user.id, identity, true).await?;
            tracing::info!(user = %user.id, issuer = %identity.issuer, "upstream identity linked by verified email");
            return Ok(Outcome::SignIn(user));
        }
        if user.password_hash.is_none() {
            return Ok(Outcome::Refused(Refusal::CannotLink));
        }
        Ok(Outcome::LinkWithPassword {
            issuer: identity.issuer.clone(),
            subject: identity.subject.clone(),
            user_id: user.id,
            email: user.email,
        })
    }

    /// A new user for an identity (with a verified email) whose email no user has.
    async fn create(&self, identity: &Identity, email: &Email) -> Result<Outcome, FederationError> {
        let name = identity
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| {
                !n.is_empty() && n.chars().count() <= 200 && !n.chars().any(char::is_control)
            })
            .map(str::to_owned);
        let new = NewUser {
            id: uuid::Uuid::new_v4().to_string(),
            email: email.as_str().to_owned(),
            email_normalized: email.normalized(),
            name,
            password_hash: None,
            email_verified: true,
            security_stamp: secrets::random_token(16),
        };
        let (row, issuer, subject) = (
            new.clone(),
            identity.issuer.clone(),
            identity.subject.clone(),
        );
        self.store
            .run(move |c| store::insert_federated_user(c, &row, &issuer, &subject))
            .await?;
        let id = new.id.clone();
        let user = self
            .store
            .run(move |c| store::find_user_by_id(c, &id))
            .await?
            .ok_or(StoreError::Conflict("a user"))?;
        tracing::info!(user = %user.id, issuer = %identity.issuer, "user created by an upstream sign-in");
        Ok(Outcome::SignIn(user))
    }

    /// Links `identity` to `user_id` with a new security stamp (every session and token of the
    /// user ends); the user as they are now. With `only_identity_there`, a `Conflict` when the
    /// user has an identity at the issuer already (checked in the linking transaction, so two
    /// parallel sign-ins of different identities cannot both link by email).
    async fn link(
        &self,
        user_id: &str,
        identity: &Identity,
        only_identity_there: bool,
    ) -> Result<User, StoreError> {
        let (issuer, subject, id) = (
            identity.issuer.clone(),
            identity.subject.clone(),
            user_id.to_owned(),
        );
        self.end_all
            .end_with(user_id, move |c| {
                if only_identity_there && store::has_identity_at(c, &id, &issuer)? {
                    return Err(StoreError::Conflict("an identity at this issuer"));
                }
                store::link_identity(c, &issuer, &subject, &id)
            })
            .await?;
        let id = user_id.to_owned();
        self.store
            .run(move |c| store::find_user_by_id(c, &id))
            .await?
            .ok_or(StoreError::Conflict("a user"))
    }

    /// After `user` signed in with their password in the browser that was offered the link:
    /// links the identity (unless it is linked to someone already) and returns the user with
    /// their new security stamp.
    pub async fn link_after_password(
        &self,
        issuer: &str,
        subject: &str,
        user: &User,
    ) -> Result<Option<User>, StoreError> {
        if issuer != self.upstream.issuer() {
            return Ok(None);
        }
        let (i, s) = (issuer.to_owned(), subject.to_owned());
        if self
            .store
            .run(move |c| store::find_identity(c, &i, &s))
            .await?
            .is_some()
        {
            return Ok(None);
        }
        let identity = Identity {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
            email: None,
            email_verified: false,
            name: None,
            hosted_domain: None,
        };
        // A parallel sign-in may have linked it meanwhile: nothing more to do.
        let user = match self.link(&user.id, &identity, false).await {
            Ok(user) => user,
            Err(StoreError::Conflict(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        tracing::info!(user = %user.id, issuer, "upstream identity linked after a password sign-in");
        Ok(Some(user))
    }
}

/// Whether the provider speaks for `email`: Google for `@gmail.com`; any provider for the domain
/// its `hd` claim names.
fn authoritative(is_google: bool, email: &Email, hosted_domain: Option<&str>) -> bool {
    let normalized = email.normalized();
    let domain = normalized.rsplit_once('@').map_or("", |(_, d)| d);
    (is_google && domain == "gmail.com") || hosted_domain.is_some_and(|hd| hd == domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_speaks_for_gmail_only_if_it_is_google_and_for_its_hosted_domain() {
        let gmail = Email::parse("Someone@Gmail.com").unwrap();
        let corp = Email::parse("ann@corp.example").unwrap();
        assert!(authoritative(true, &gmail, None));
        assert!(!authoritative(false, &gmail, None));
        assert!(authoritative(false, &corp, Some("corp.example")));
        assert!(!authoritative(true, &corp, Some("other.example")));
        assert!(!authoritative(true, &corp, None));
    }
}
