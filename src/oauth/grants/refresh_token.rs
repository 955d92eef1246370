//! RFC 6749 §6 with rotation (RFC 9700 §4.14.2): every use returns a new refresh token; a used
//! one presented again revokes its whole family (likely theft), and so does losing a race.
//!
//! Everything a refresh reads and writes happens in one visit to the database, in one
//! transaction (the token and its user, the organization, the user's effective access, the
//! claim of the old token and the successor's insert); the tokens are signed after it commits.

use super::TokenEndpoint;
use crate::auth::claims::Authorization;
use crate::auth::secrets::{self, stamp_digest};
use crate::domain::Scopes;
use crate::oauth::error::OAuthError;
use crate::oauth::form::Form;
use crate::oauth::issue::{IdExtra, Issuer, TokenResponse};
use crate::oauth::organization::{self, Choice};
use crate::oauth::tokens::TokenId;
use crate::store::{self, Client, DbConnection, RefreshToken, RoleGraphCache, StoreError, User};
use std::sync::Arc;

/// What a refresh request asks for, known before the database is read.
struct Plan {
    presented_hash: String,
    client: Client,
    /// The request's `scope`, parsed against the catalogue (its error is reported only once
    /// the token itself was found valid).
    requested: Option<Result<Scopes, OAuthError>>,
    /// The request's `organization`.
    organization: Option<String>,
    /// The successor's hash and the access token it is issued with.
    successor_hash: String,
    access: TokenId,
    access_exp: i64,
    settings: Arc<crate::config::Settings>,
    roles: Arc<RoleGraphCache>,
}

/// What the visit found and did.
enum Visit {
    /// Unknown, another client's, revoked or expired, or its user is gone: nothing changed.
    Invalid,
    /// Refused, and its family must be revoked: the token was used before (likely theft), its
    /// user changed (password, logout-all, disabled), or a concurrent use claimed it first.
    Revoke {
        family: String,
        client: String,
        why: &'static str,
    },
    /// The request itself is refused (scope widened, organization refused); nothing changed.
    Refused(OAuthError),
    /// Rotated: the old token is spent and its successor stored.
    Rotated(Box<Rotation>),
}

/// A stored rotation: what the new tokens are signed from.
struct Rotation {
    row: RefreshToken,
    user: User,
    scopes: Scopes,
    authz: Authorization,
}

impl TokenEndpoint {
    pub(super) async fn refresh_token(
        &self,
        client: &Client,
        form: &Form,
    ) -> Result<TokenResponse, OAuthError> {
        let presented = form.require("refresh_token")?;
        let invalid =
            || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
        if presented.len() > 512 {
            return Err(invalid());
        }
        let token = secrets::random_token(32);
        let access = TokenId::new();
        let plan = Plan {
            presented_hash: secrets::hash_secret(presented),
            client: client.clone(),
            requested: form.get("scope").map(|raw| {
                Scopes::parse(raw, &self.settings.tokens.scopes)
                    .map_err(|e| OAuthError::invalid_scope(e.to_string()))
            }),
            organization: form.get("organization").map(str::to_owned),
            successor_hash: secrets::hash_secret(&token),
            access_exp: access.iat + self.settings.tokens.access_ttl as i64,
            access: access.clone(),
            settings: self.settings.clone(),
            roles: self.issuer.role_cache(),
        };
        let visit = self.store.write(move |c| visit(c, &plan)).await?;
        let Rotation {
            row,
            user,
            scopes,
            authz,
        } = match visit {
            Visit::Invalid => return Err(invalid()),
            Visit::Refused(e) => return Err(e),
            Visit::Revoke {
                family,
                client,
                why,
            } => {
                if why == "reused" {
                    crate::metrics::refresh_reuse();
                }
                tracing::warn!(%family, %client, "refresh token {why}; revoking its family");
                self.issuer.revoke_family(&family).await?;
                return Err(invalid());
            }
            Visit::Rotated(rotation) => *rotation,
        };
        // Signed once the rotation is stored: the answer never carries a token whose successor
        // was not persisted. (A signing failure here is a broken key store: the client signs in
        // again.)
        let issued = self.issuer.user_tokens(
            client,
            &user,
            &scopes,
            row.auth_time,
            authz,
            // OpenID Connect Core §12.2: the same session as the original ID token; no nonce.
            IdExtra {
                nonce: None,
                sid: row.session_id,
                access,
            },
        )?;
        Ok(self.issuer.respond(issued, Some(token)))
    }
}

/// The refresh itself, inside one transaction.
fn visit(c: &mut DbConnection, plan: &Plan) -> Result<Visit, StoreError> {
    let Some(row) = store::find_refresh_token(c, &plan.presented_hash)? else {
        return Ok(Visit::Invalid);
    };
    let client = &plan.client;
    // Another client's token is refused without being burned (SEC-31).
    if row.client_id != client.id || row.revoked_at.is_some() {
        return Ok(Visit::Invalid);
    }
    let revoke = |why| Visit::Revoke {
        family: row.family_id.clone(),
        client: client.id.clone(),
        why,
    };
    if row.used_at.is_some() {
        return Ok(revoke("reused"));
    }
    let now = plan.access.iat;
    if now >= row.expires_at {
        return Ok(Visit::Invalid);
    }
    let Some(user) = store::find_user_by_id(c, &row.user_id)? else {
        return Ok(Visit::Invalid);
    };
    if !user.is_active || stamp_digest(&user.security_stamp) != row.stamp_digest {
        return Ok(revoke("outlived its user's sessions"));
    }
    let scopes = match narrowed_scopes(plan, &row) {
        Ok(scopes) => scopes,
        Err(e) => return Ok(Visit::Refused(e)),
    };
    let org_id = match family_organization(c, plan, &row)? {
        Ok(org) => org,
        Err(e) => return Ok(Visit::Refused(e)),
    };
    // Roles and memberships are read again: a change reaches tokens at the next refresh.
    let access = store::effective_access(c, &plan.roles, &user.id, org_id.as_deref())?;
    let authz = Issuer::authorization_of(access, org_id.clone(), &scopes);
    let successor = RefreshToken {
        token_hash: plan.successor_hash.clone(),
        created_at: now,
        used_at: None,
        revoked_at: None,
        access_jti: plan.access.jti.clone(),
        access_exp: plan.access_exp,
        org_id,
        ..row.clone()
    };
    if !store::claim_and_replace(c, &row.token_hash, now, &successor)? {
        return Ok(revoke("used concurrently"));
    }
    Ok(Visit::Rotated(Box::new(Rotation {
        row,
        user,
        scopes,
        authz,
    })))
}

/// The organization the successor acts in: the family's, while the user is still a member
/// there; or, for a first-party (`--skip-consent`) client, the one `organization` names
/// (CONTRACT "Choosing the organization").
fn family_organization(
    c: &mut DbConnection,
    plan: &Plan,
    row: &RefreshToken,
) -> Result<Result<Option<String>, OAuthError>, StoreError> {
    if let Some(requested) = &plan.organization {
        if !plan.client.skip_consent {
            return Ok(Err(OAuthError::invalid_request(
                "only a first-party client may switch the organization on a refresh",
            )));
        }
        return Ok(
            match organization::choose_with(c, false, &row.user_id, Some(requested))? {
                Choice::Chosen(org) => Ok(Some(org.id)),
                _ => Err(OAuthError::invalid_grant(
                    "the user is not a member of that organization",
                )),
            },
        );
    }
    Ok(match &row.org_id {
        Some(org) if store::is_member(c, org, &row.user_id)? => Ok(Some(org.clone())),
        Some(_) => Err(OAuthError::invalid_grant(
            "the user is no longer a member of this token's organization",
        )),
        None => Ok(None),
    })
}

/// The original grant, less anything the client may no longer have or the catalogue no
/// longer knows, narrowed to `scope` when the request names one (it may not add any).
fn narrowed_scopes(plan: &Plan, row: &RefreshToken) -> Result<Scopes, OAuthError> {
    let catalogue = &plan.settings.tokens.scopes;
    let original = Scopes::granted(&row.scope)
        .retain(|s| plan.client.allowed_scopes.iter().any(|a| a == s) && catalogue.contains(s));
    match &plan.requested {
        None => Ok(original),
        Some(Err(e)) => Err(e.clone()),
        Some(Ok(requested)) if requested.is_subset(&original) => Ok(requested.clone()),
        Some(Ok(_)) => Err(OAuthError::invalid_scope(
            "a refresh cannot add scopes to the original grant",
        )),
    }
}
