//! Issuing tokens: access tokens (RFC 9068), ID tokens (OpenID Connect Core §2), and the opaque,
//! hashed refresh tokens of a family (RFC 9700 §4.14.2), with the family's revocation.

use super::error::{ErrorCode, OAuthError};
use super::tokens::{
    IdClaims, Subject, TokenId, access_claims, at_hash, issue_access_token, sign_access_token,
    sign_id_token,
};
use crate::auth::api_keys::VerifiedKey;
use crate::auth::claims::{AccessClaims, Authorization};
use crate::auth::revocations::{Revocations, RevokeError};
use crate::config::Settings;
use crate::domain::Scopes;
use crate::keys::KeyStore;
use crate::store::{self, Client, Store, User};
use std::sync::Arc;

mod families;
mod response;

pub use response::TokenResponse;

/// The longest lifetime of an access token exchanged for an API key (seconds).
pub const EXCHANGED_TOKEN_TTL: u64 = 300;
/// RFC 8693 §3: the token type of an access token.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// An access token (and ID token when `openid` is granted) for a user.
pub struct UserTokens {
    pub access_token: String,
    pub claims: AccessClaims,
    pub id_token: Option<String>,
}

/// What comes from the authorization request and the browser session: ID-token members, and
/// the access token's id when it was fixed before (a code's redemption).
#[derive(Default)]
pub struct IdExtra {
    pub nonce: Option<String>,
    pub sid: Option<String>,
    pub access: TokenId,
}

/// Where a new refresh-token family starts from.
pub struct FamilyStart<'a> {
    /// The family's id when it was fixed before (a code's redemption).
    pub family_id: Option<String>,
    /// The code whose redemption starts the family: the row is not stored once a replay of the
    /// code revoked what it issues.
    pub code_hash: Option<String>,
    pub client: &'a Client,
    pub user: &'a User,
    pub scopes: &'a Scopes,
    pub auth_time: i64,
    pub session_id: Option<String>,
    pub access: &'a AccessClaims,
    /// The organization the family acts in.
    pub org_id: Option<String>,
}

/// Signs and stores what the grants hand out.
#[derive(Clone)]
pub struct Issuer {
    keys: Arc<KeyStore>,
    settings: Arc<Settings>,
    store: Store,
    revocations: Revocations,
    /// The role graph, kept in memory while its version in the database is unchanged.
    roles: Arc<store::RoleGraphCache>,
}

impl Issuer {
    pub fn new(
        keys: Arc<KeyStore>,
        settings: Arc<Settings>,
        store: Store,
        revocations: Revocations,
    ) -> Self {
        Self {
            keys,
            settings,
            store,
            revocations,
            roles: Arc::default(),
        }
    }

    /// RFC 6749 §4.4: a client's token for itself; `sub` is its id; no refresh or ID token.
    pub fn client_token(
        &self,
        client: &Client,
        scopes: &Scopes,
    ) -> Result<TokenResponse, OAuthError> {
        let subject = Subject {
            sub: &client.id,
            security_stamp: None,
            auth_time: None,
        };
        let scope = scopes.to_space_delimited();
        let (access_token, _) = issue_access_token(
            &self.keys,
            &self.settings,
            &subject,
            &client.id,
            &scope,
            TokenId::new(),
            Authorization::default(),
        )
        .map_err(signing_failed)?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: self.settings.tokens.access_ttl,
            scope,
            refresh_token: None,
            id_token: None,
            issued_token_type: None,
        })
    }

    /// What `user_id` may do, for a token granted `scopes`: effective roles (globally and in
    /// `org_id`), and their permissions narrowed to the granted scope — a client delegated
    /// `posts:read` never carries `posts:write`, whoever the user is.
    pub async fn authorization(
        &self,
        user_id: &str,
        org_id: Option<String>,
        scopes: &Scopes,
    ) -> Result<Authorization, OAuthError> {
        let (user, org, roles) = (user_id.to_owned(), org_id.clone(), self.roles.clone());
        let access = self
            .store
            .run(move |c| store::effective_access(c, &roles, &user, org.as_deref()))
            .await?;
        Ok(Self::authorization_of(access, org_id, scopes))
    }

    /// The claims of `access` for a token granted `scopes` (see `authorization`).
    pub fn authorization_of(
        access: store::EffectiveAccess,
        org_id: Option<String>,
        scopes: &Scopes,
    ) -> Authorization {
        Authorization {
            roles: access.roles,
            permissions: access
                .permissions
                .into_iter()
                .filter(|p| scopes.contains(p))
                .collect(),
            org_id,
            org_roles: access.org_roles,
        }
    }

    /// The role graph kept in memory, for reading effective access inside a caller's
    /// transaction (`store::effective_access`).
    pub fn role_cache(&self) -> Arc<store::RoleGraphCache> {
        self.roles.clone()
    }

    /// A user's access token, and an ID token when `openid` is granted.
    pub fn user_tokens(
        &self,
        client: &Client,
        user: &User,
        scopes: &Scopes,
        auth_time: i64,
        authz: Authorization,
        mut extra: IdExtra,
    ) -> Result<UserTokens, OAuthError> {
        let subject = Subject {
            sub: &user.id,
            security_stamp: Some(&user.security_stamp),
            auth_time: Some(auth_time),
        };
        let scope = scopes.to_space_delimited();
        let access = std::mem::take(&mut extra.access);
        let (access_token, claims) = issue_access_token(
            &self.keys,
            &self.settings,
            &subject,
            &client.id,
            &scope,
            access,
            authz,
        )
        .map_err(signing_failed)?;
        let id_token = if scopes.contains("openid") {
            let id = id_claims(
                &claims,
                client,
                user,
                scopes,
                auth_time,
                &access_token,
                extra,
            );
            Some(sign_id_token(&self.keys, &id).map_err(signing_failed)?)
        } else {
            None
        };
        Ok(UserTokens {
            access_token,
            claims,
            id_token,
        })
    }

    /// RFC 8693: an access token for the user of an API key, acting with `scope` (within the
    /// key's), the key's organization and authorization claims, and `api_key_id`; it lives
    /// `access_token_ttl` or 300 s, whichever is shorter. No refresh token, no ID token.
    pub fn exchanged_token(
        &self,
        client: &Client,
        key: &VerifiedKey,
        scope: &Scopes,
    ) -> Result<TokenResponse, OAuthError> {
        let lifetime = self.settings.tokens.access_ttl.min(EXCHANGED_TOKEN_TTL);
        let subject = Subject {
            sub: &key.user.id,
            security_stamp: Some(&key.user.security_stamp),
            auth_time: None,
        };
        let authz = Authorization {
            roles: key.roles.clone(),
            permissions: key
                .permissions
                .iter()
                .filter(|p| scope.contains(p))
                .cloned()
                .collect(),
            org_id: key.org_id.clone(),
            org_roles: key.org_roles.clone(),
        };
        let scope = scope.to_space_delimited();
        let mut claims = access_claims(
            &self.settings,
            &subject,
            &client.id,
            &scope,
            TokenId::new(),
            authz,
        );
        claims.exp = claims.iat + lifetime as i64;
        claims.api_key_id = Some(key.id.clone());
        let access_token = sign_access_token(&self.keys, &claims).map_err(signing_failed)?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: lifetime,
            scope: claims.scope,
            refresh_token: None,
            id_token: None,
            issued_token_type: Some(ACCESS_TOKEN_TYPE),
        })
    }

    /// The token response for `tokens`, with `refresh_token` when one was issued.
    pub fn respond(&self, tokens: UserTokens, refresh_token: Option<String>) -> TokenResponse {
        TokenResponse {
            access_token: tokens.access_token,
            token_type: "Bearer",
            expires_in: self.settings.tokens.access_ttl,
            scope: tokens.claims.scope,
            refresh_token,
            id_token: tokens.id_token,
            issued_token_type: None,
        }
    }

    /// The `exp` an access token with this id will carry.
    pub fn access_exp(&self, id: &TokenId) -> i64 {
        id.iat + self.settings.tokens.access_ttl as i64
    }

    /// Puts access tokens on the blocklist until their `exp`.
    pub async fn revoke_access(&self, entries: Vec<(String, i64)>) -> Result<(), OAuthError> {
        self.revocations
            .revoke(entries)
            .await
            .map_err(revoke_failed)
    }

    /// Publishes revocations already written to the database.
    pub async fn publish(&self, entries: &[(String, i64)]) -> Result<(), OAuthError> {
        self.revocations
            .publish(entries)
            .await
            .map_err(revoke_failed)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}

fn id_claims(
    access: &AccessClaims,
    client: &Client,
    user: &User,
    scopes: &Scopes,
    auth_time: i64,
    access_token: &str,
    extra: IdExtra,
) -> IdClaims {
    let with_email = scopes.contains("email");
    IdClaims {
        iss: access.iss.clone(),
        sub: user.id.clone(),
        aud: client.id.clone(),
        azp: client.id.clone(),
        exp: access.exp,
        iat: access.iat,
        auth_time,
        at_hash: at_hash(access_token),
        nonce: extra.nonce,
        sid: extra.sid,
        email: with_email.then(|| user.email.clone()),
        email_verified: with_email.then_some(user.email_verified),
        name: if scopes.contains("profile") {
            user.name.clone()
        } else {
            None
        },
        org_id: access.org_id.clone(),
        roles: scopes.contains("roles").then(|| access.roles.clone()),
        org_roles: (scopes.contains("roles") && access.org_id.is_some())
            .then(|| access.org_roles.clone()),
    }
}

fn revoke_failed(e: RevokeError) -> OAuthError {
    match e {
        RevokeError::Store(e) => e.into(),
        RevokeError::Unpublished(detail) => {
            tracing::error!(%detail, "a revocation could not be published");
            OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "the revocation could not be completed; retry",
            )
        }
    }
}

fn signing_failed(e: crate::keys::KeyError) -> OAuthError {
    tracing::error!(error = %e, "signing a token failed");
    OAuthError::server_error()
}
