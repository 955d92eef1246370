//! RFC 6749 §6 with rotation (RFC 9700 §4.14.2): every use returns a new refresh token; a used
//! one presented again revokes its whole family (likely theft), and so does losing a race.

use super::TokenEndpoint;
use crate::auth::secrets::{self, stamp_digest};
use crate::domain::Scopes;
use crate::oauth::error::OAuthError;
use crate::oauth::form::Form;
use crate::oauth::issue::{IdExtra, TokenResponse};
use crate::oauth::organization::{self, Choice};
use crate::oauth::tokens::TokenId;
use crate::store::{self, Client, RefreshToken};

impl TokenEndpoint {
    pub(super) async fn refresh_token(
        &self,
        client: &Client,
        form: &Form,
    ) -> Result<TokenResponse, OAuthError> {
        let presented = form.require("refresh_token")?;
        let invalid =
            || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
        let (row, user) = self
            .issuer
            .find_refresh_token_with_user(presented)
            .await?
            .ok_or_else(invalid)?;
        // Another client's token is refused without being burned (SEC-31).
        if row.client_id != client.id || row.revoked_at.is_some() {
            return Err(invalid());
        }
        if row.used_at.is_some() {
            tracing::warn!(family = %row.family_id, client = %client.id, "refresh token reused; revoking its family");
            self.issuer.revoke_family(&row.family_id).await?;
            return Err(invalid());
        }
        let now = chrono::Utc::now().timestamp();
        if now >= row.expires_at {
            return Err(invalid());
        }
        let user = user.ok_or_else(invalid)?;
        if !user.is_active || stamp_digest(&user.security_stamp) != row.stamp_digest {
            self.issuer.revoke_family(&row.family_id).await?;
            return Err(invalid());
        }
        let scopes = self.narrowed_scopes(client, &row, form)?;
        let org_id = self.family_organization(client, &row, form).await?;
        // Roles and memberships are read again: a change reaches tokens at the next refresh.
        let authz = self
            .issuer
            .authorization(&user.id, org_id.clone(), &scopes)
            .await?;
        let issued = self.issuer.user_tokens(
            client,
            &user,
            &scopes,
            row.auth_time,
            authz,
            // OpenID Connect Core §12.2: the same session as the original ID token; no nonce.
            IdExtra {
                nonce: None,
                sid: row.session_id.clone(),
                access: TokenId::new(),
            },
        )?;
        let token = secrets::random_token(32);
        let successor = RefreshToken {
            token_hash: secrets::hash_secret(&token),
            created_at: now,
            used_at: None,
            revoked_at: None,
            access_jti: issued.claims.jti.clone(),
            access_exp: issued.claims.exp,
            org_id,
            ..row.clone()
        };
        let spent = row.token_hash.clone();
        let rotated = self
            .store
            .run(move |c| store::rotate_refresh_token(c, &spent, now, &successor))
            .await?;
        if !rotated {
            tracing::warn!(family = %row.family_id, client = %client.id, "refresh token used concurrently; revoking its family");
            self.issuer.revoke_family(&row.family_id).await?;
            return Err(invalid());
        }
        Ok(self.issuer.respond(issued, Some(token)))
    }

    /// The organization the successor acts in: the family's, while the user is still a member
    /// there; or, for a first-party (`--skip-consent`) client, the one `organization` names
    /// (CONTRACT "Choosing the organization").
    async fn family_organization(
        &self,
        client: &Client,
        row: &RefreshToken,
        form: &Form,
    ) -> Result<Option<String>, OAuthError> {
        if let Some(requested) = form.get("organization") {
            if !client.skip_consent {
                return Err(OAuthError::invalid_request(
                    "only a first-party client may switch the organization on a refresh",
                ));
            }
            return match organization::choose(&self.store, client, &row.user_id, Some(requested))
                .await?
            {
                Choice::Chosen(org) => Ok(Some(org.id)),
                _ => Err(OAuthError::invalid_grant(
                    "the user is not a member of that organization",
                )),
            };
        }
        match &row.org_id {
            Some(org) if organization::still_member(&self.store, org, &row.user_id).await? => {
                Ok(Some(org.clone()))
            }
            Some(_) => Err(OAuthError::invalid_grant(
                "the user is no longer a member of this token's organization",
            )),
            None => Ok(None),
        }
    }

    /// The original grant, less anything the client may no longer have or the catalogue no
    /// longer knows, narrowed to `scope` when the request names one (it may not add any).
    fn narrowed_scopes(
        &self,
        client: &Client,
        row: &RefreshToken,
        form: &Form,
    ) -> Result<Scopes, OAuthError> {
        let original = Scopes::granted(&row.scope).retain(|s| {
            client.allowed_scopes.iter().any(|a| a == s) && self.settings.tokens.scopes.contains(s)
        });
        self.requested_within(
            form,
            original,
            "a refresh cannot add scopes to the original grant",
        )
    }
}
