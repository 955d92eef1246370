//! Who is calling: the one answer every bearer endpoint works from, whatever credential the
//! caller presented. Tokens are told apart by what they are (a JWT parses as one; a refresh
//! token is 256 random bits in base64url), never by a guess on their characters.

use super::access::{AccessVerifier, Rejected};
use super::api_keys::{ApiKeyVerifier, VerifiedKey};
use super::claims::{AccessClaims, TokenKind};
use crate::domain::api_key::ApiKey;
use crate::store::User;

/// The caller of a bearer endpoint.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A user, through an access token a client obtained for them; `record` is the user's row
    /// when verifying the credential read it from the database.
    User {
        user_id: String,
        via: Credential,
        record: Option<Box<User>>,
    },
    /// A client acting for itself (client_credentials).
    Client { client_id: String, via: Credential },
}

/// What the caller presented.
#[derive(Debug, Clone)]
pub enum Credential {
    AccessToken(AccessClaims),
    /// An API key (`igk_…`), acting with its scopes that its user still has.
    ApiKey(VerifiedKey),
}

impl Principal {
    /// The user this caller acts as; None for a client acting for itself.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Principal::User { user_id, .. } => Some(user_id),
            Principal::Client { .. } => None,
        }
    }

    /// The client the credential was issued to (none for an API key).
    pub fn client_id(&self) -> Option<&str> {
        match self.credential() {
            Credential::AccessToken(claims) => Some(&claims.client_id),
            Credential::ApiKey(_) => None,
        }
    }

    pub fn credential(&self) -> &Credential {
        match self {
            Principal::User { via, .. } | Principal::Client { via, .. } => via,
        }
    }

    /// The authorization the credential carries: effective roles, permissions, the active
    /// organization and the roles there.
    pub fn authorization(&self) -> super::claims::Authorization {
        match self.credential() {
            Credential::AccessToken(c) => super::claims::Authorization {
                roles: c.roles.clone(),
                permissions: c.permissions.clone(),
                org_id: c.org_id.clone(),
                org_roles: c.org_roles.clone(),
            },
            Credential::ApiKey(k) => super::claims::Authorization {
                roles: k.roles.clone(),
                permissions: k.permissions.clone(),
                org_id: k.org_id.clone(),
                org_roles: k.org_roles.clone(),
            },
        }
    }

    /// Whether the credential grants `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        match self.credential() {
            Credential::AccessToken(claims) => claims.scope.split(' ').any(|s| s == scope),
            Credential::ApiKey(key) => key.scope.split(' ').any(|s| s == scope),
        }
    }
}

/// Turns a presented bearer credential into a `Principal`.
#[derive(Clone)]
pub struct Authenticator {
    access: AccessVerifier,
    keys: ApiKeyVerifier,
}

impl Authenticator {
    pub fn new(access: AccessVerifier, keys: ApiKeyVerifier) -> Self {
        Self { access, keys }
    }

    /// Verifies `token` fully (signature, claims, revocation, the user's current state), or
    /// the API key it is.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, Rejected> {
        if ApiKey::looks_like(token) {
            let key = self.keys.verify(token).await?;
            return Ok(Principal::User {
                user_id: key.user.id.clone(),
                record: Some(Box::new(key.user.clone())),
                via: Credential::ApiKey(key),
            });
        }
        if TokenKind::of(token) != TokenKind::Jwt {
            return Err(Rejected::Invalid("the access token is invalid"));
        }
        let verified = self.access.verify(token, false).await?;
        let claims = verified.claims;
        Ok(match claims.sst {
            Some(_) => Principal::User {
                user_id: claims.sub.clone(),
                via: Credential::AccessToken(claims),
                record: verified.user.map(Box::new),
            },
            None => Principal::Client {
                client_id: claims.client_id.clone(),
                via: Credential::AccessToken(claims),
            },
        })
    }

    /// The calling user's record as the database holds it now (userinfo answers from it): the
    /// one verification read, or else read and checked again.
    pub async fn current_user(&self, principal: Principal) -> Result<User, Rejected> {
        match principal {
            Principal::User {
                record: Some(user), ..
            } => Ok(*user),
            other => match other.credential() {
                Credential::AccessToken(claims) => self.access.current_user(claims).await,
                Credential::ApiKey(key) => Ok(key.user.clone()),
            },
        }
    }
}
