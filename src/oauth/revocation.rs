//! Token revocation (RFC 7009).

use super::error::OAuthError;
use super::form::Form;
use super::issue::Issuer;
use crate::auth::access::AccessVerifier;
use crate::auth::claims::TokenKind;
use crate::store::Client;

/// The revocation endpoint's service.
#[derive(Clone)]
pub struct Revocation {
    access: AccessVerifier,
    issuer: Issuer,
}

impl Revocation {
    pub fn new(access: AccessVerifier, issuer: Issuer) -> Self {
        Self { access, issuer }
    }

    /// RFC 7009 §2.1: revokes a token the client holds. A refresh token takes its family and
    /// the access tokens issued from it along; an access token goes on the blocklist until its
    /// `exp`. Unknown, expired and other clients' tokens are left alone and answered 200 like
    /// the rest (§2.2), so the endpoint tells nothing about tokens the caller does not own.
    /// `token_type_hint` is not needed: the token's form says what it is.
    pub async fn revoke(&self, client: &Client, form: &Form) -> Result<(), OAuthError> {
        let token = form.require("token")?;
        match TokenKind::of(token) {
            TokenKind::Jwt => {
                if let Ok(claims) = self.access.decode(token)
                    && claims.client_id == client.id
                {
                    self.issuer
                        .revoke_access(vec![(claims.jti, claims.exp)])
                        .await?;
                }
            }
            TokenKind::Refresh => {
                if let Some(row) = self.issuer.find_refresh_token(token).await?
                    && row.client_id == client.id
                {
                    self.issuer.revoke_family(&row.family_id).await?;
                }
            }
            TokenKind::Unknown => {}
        }
        Ok(())
    }
}
