//! RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6): the code is spent atomically first, then checked
//! (client, expiry, redirect URI, verifier); a failed check leaves it spent. A code presented
//! again revokes what its first redemption issued.

use super::TokenEndpoint;
use crate::auth::secrets;
use crate::domain::{GrantType, Scopes, pkce};
use crate::oauth::error::OAuthError;
use crate::oauth::form::Form;
use crate::oauth::issue::{FamilyStart, IdExtra, TokenResponse};
use crate::oauth::tokens::TokenId;
use crate::store::{self, AuthorizationCode, Client, Planned, Redemption};

fn invalid(why: &str) -> OAuthError {
    OAuthError::invalid_grant(format!("the authorization code {why}"))
}

impl TokenEndpoint {
    pub(super) async fn authorization_code(
        &self,
        client: &Client,
        form: &Form,
    ) -> Result<TokenResponse, OAuthError> {
        let presented = form.require("code")?;
        if presented.len() > 512 {
            return Err(invalid("is invalid"));
        }
        let hash = secrets::hash_secret(presented);
        // What this redemption will issue is fixed first and stored with the claim, so that a
        // replay arriving at any moment after the claim revokes it (SEC-19).
        let access = TokenId::new();
        let planned = Planned {
            family_id: client
                .grant_types
                .contains(&GrantType::RefreshToken)
                .then(|| uuid::Uuid::new_v4().to_string()),
            access_jti: access.jti.clone(),
            access_exp: self.issuer.access_exp(&access),
        };
        let code = self.redeem(&hash, &planned).await?;
        check(&code, client, form)?;
        let (user_id, sid) = (code.user_id.clone(), code.session_id.clone());
        let now = store::unix_now();
        let (user, session_live) = self
            .store
            .run(move |c| {
                let live = match sid {
                    Some(sid) => store::session_live_by_sid(c, &sid, now)?,
                    None => true,
                };
                Ok((store::find_user_by_id(c, &user_id)?, live))
            })
            .await?;
        let user = user
            .filter(|u| u.is_active)
            .ok_or_else(|| invalid("is invalid"))?;
        // CONTRACT "Hardening": the browser session the code was issued in must still be alive —
        // logout, "log out everywhere" and disabling end it, and its codes with it.
        if !session_live {
            return Err(invalid("was issued in a session that has ended"));
        }
        let scopes = Scopes::granted(&code.scope);
        let extra = IdExtra {
            nonce: code.nonce.clone(),
            sid: code.session_id.clone(),
            access,
        };
        let authz = self
            .issuer
            .authorization(&user.id, code.org_id.clone(), &scopes)
            .await?;
        let issued =
            self.issuer
                .user_tokens(client, &user, &scopes, code.auth_time, authz, extra)?;
        let refresh_token = if planned.family_id.is_some() {
            let start = FamilyStart {
                org_id: code.org_id.clone(),
                family_id: planned.family_id,
                code_hash: Some(hash),
                client,
                user: &user,
                scopes: &scopes,
                auth_time: code.auth_time,
                session_id: code.session_id.clone(),
                access: &issued.claims,
            };
            Some(self.issuer.start_family(start).await?.0)
        } else {
            // No family to store: ask, under the code's lock, whether a replay came meanwhile
            // (the ID token could not be revoked once it is out).
            let (code_hash, jti) = (hash, planned.access_jti.clone());
            let replayed = self
                .store
                .run(move |c| store::code_issuance_revoked(c, &code_hash, &jti))
                .await?;
            if replayed {
                return Err(invalid("was already used"));
            }
            None
        };
        Ok(self.issuer.respond(issued, refresh_token))
    }

    /// Spends the code; a code spent before revokes what its first redemption issued.
    async fn redeem(&self, hash: &str, planned: &Planned) -> Result<AuthorizationCode, OAuthError> {
        let now = chrono::Utc::now().timestamp();
        let (lookup, planned) = (hash.to_owned(), planned.clone());
        let redemption = self
            .store
            .run(move |c| store::redeem_authorization_code(c, &lookup, now, &planned))
            .await?;
        match redemption {
            Redemption::Unknown => Err(invalid("is invalid")),
            Redemption::Replayed(code, revoked) => {
                tracing::warn!(client = %code.client_id, "authorization code replayed; revoking what it issued");
                self.issuer.publish(&revoked).await?;
                Err(invalid("was already used"))
            }
            Redemption::Claimed(code) => Ok(code),
        }
    }
}

/// The checks after the code is spent: its client, its age, its redirect URI, PKCE.
fn check(code: &AuthorizationCode, client: &Client, form: &Form) -> Result<(), OAuthError> {
    if code.client_id != client.id {
        return Err(invalid("was issued to another client"));
    }
    if chrono::Utc::now().timestamp() >= code.expires_at {
        return Err(invalid("has expired"));
    }
    match (code.redirect_uri_explicit, form.get("redirect_uri")) {
        (_, Some(uri)) if uri != code.redirect_uri => {
            return Err(invalid("was issued for another redirect_uri"));
        }
        (true, None) => {
            return Err(OAuthError::invalid_request(
                "redirect_uri is required: the authorization request had one",
            ));
        }
        _ => {}
    }
    match (&code.code_challenge, form.get("code_verifier")) {
        (Some(challenge), Some(verifier)) if pkce::s256_matches(verifier, challenge) => Ok(()),
        (None, None) if !client.is_public => Ok(()),
        (Some(_), _) => Err(OAuthError::invalid_grant("PKCE verification failed")),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "a code_verifier was sent for a code issued without a challenge",
        )),
        (None, None) => Err(OAuthError::invalid_grant("public clients must use PKCE")),
    }
}
