//! The token endpoint (RFC 6749 §3.2): client authentication, then the grant.

use super::client_auth;
use super::error::{ErrorCode, OAuthError};
use super::form::Form;
use super::tokens::{
    AccessClaims, IdClaims, Subject, at_hash, issue_access_token, sign_id_token, stamp_digest,
};
use crate::auth::secrets;
use crate::auth::sign_in::{SignInError, sign_in};
use crate::domain::{GrantType, Scopes};
use crate::startup::AppState;
use crate::store::{self, Client, Redemption, RefreshToken, User};
use serde::Serialize;
use std::net::IpAddr;

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// Who is asking, beyond the form: the `Authorization` header and the client's IP address.
pub struct TokenRequest<'a> {
    pub authorization: Option<&'a str>,
    pub client_ip: IpAddr,
    pub form: &'a Form,
}

/// Handles one token request.
pub async fn token(state: &AppState, req: &TokenRequest<'_>) -> Result<TokenResponse, OAuthError> {
    let form = req.form;
    let client =
        client_auth::authenticate(&state.store, &state.clients, req.authorization, form).await?;
    let grant = form.require("grant_type")?;
    let unsupported = || {
        OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant type {grant:?} is not supported"),
        )
    };
    let grant = GrantType::parse(grant).map_err(|_| unsupported())?;
    if !client.grant_types.contains(&grant) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!("this client may not use the {grant} grant"),
        ));
    }
    match grant {
        GrantType::ClientCredentials => client_credentials(state, &client, form),
        GrantType::Password => password(state, &client, req).await,
        GrantType::RefreshToken => refresh(state, &client, form).await,
        GrantType::AuthorizationCode => authorization_code(state, &client, form).await,
    }
}

/// The requested scopes, which must all be allowed to the client; all allowed ones when absent.
fn granted_scopes(state: &AppState, client: &Client, form: &Form) -> Result<Scopes, OAuthError> {
    // A scope registered for the client but since removed from the catalogue is not granted.
    let allowed = Scopes::known(
        client.allowed_scopes.iter().map(String::as_str),
        &state.settings.tokens.scopes,
    );
    let Some(raw) = form.get("scope") else {
        return Ok(allowed);
    };
    let requested = Scopes::parse(raw, &state.settings.tokens.scopes)
        .map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
    if !requested.is_subset(&allowed) {
        return Err(OAuthError::invalid_scope(
            "a requested scope is not allowed for this client",
        ));
    }
    Ok(requested)
}

/// RFC 6749 §4.4: the client acts on its own behalf; `sub` is its id; no refresh or ID token.
fn client_credentials(
    state: &AppState,
    client: &Client,
    form: &Form,
) -> Result<TokenResponse, OAuthError> {
    let scopes = granted_scopes(state, client, form)?;
    let subject = Subject {
        sub: &client.id,
        security_stamp: None,
        auth_time: None,
    };
    let scope = scopes.to_space_delimited();
    let (access_token, _) =
        issue_access_token(&state.keys, &state.settings, &subject, &client.id, &scope)
            .map_err(signing_failed)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.settings.tokens.access_ttl,
        scope,
        refresh_token: None,
        id_token: None,
    })
}

/// RFC 6749 §4.3, for clients registered for it. Unknown user, wrong password and inactive user
/// are one answer in one time (no enumeration); attempts are rate limited per IP and username.
async fn password(
    state: &AppState,
    client: &Client,
    req: &TokenRequest<'_>,
) -> Result<TokenResponse, OAuthError> {
    let form = req.form;
    let username = form.require("username")?.to_owned();
    let password = form.require("password")?.to_owned();
    let scopes = granted_scopes(state, client, form)?;
    let user = sign_in(state, req.client_ip, &username, password)
        .await
        .map_err(|e| match e {
            SignInError::Limited(wait) => {
                let mut e = OAuthError::new(
                    ErrorCode::TemporarilyUnavailable,
                    "too many sign-in attempts; try again later",
                )
                .with_status(429);
                e.retry_after = Some(crate::ephemeral::retry_after_secs(wait));
                e
            }
            SignInError::Failed => OAuthError::invalid_grant("invalid username or password"),
            SignInError::Store(e) => e.into(),
            SignInError::Internal(e) => {
                tracing::error!(error = %e, "password verification failed");
                OAuthError::server_error()
            }
        })?;
    let now = chrono::Utc::now().timestamp();
    let issued = sign_user_tokens(state, client, &user, &scopes, now, IdExtra::default())?;
    let refresh_token = if client.grant_types.contains(&GrantType::RefreshToken) {
        let (token, _) =
            start_refresh_family(state, client, &user, &scopes, now, None, &issued.claims).await?;
        Some(token)
    } else {
        None
    };
    Ok(issued.into_response(state, refresh_token))
}

/// An access token (and ID token when `openid` is granted) for a user.
struct UserTokens {
    access_token: String,
    claims: AccessClaims,
    id_token: Option<String>,
}

impl UserTokens {
    fn into_response(self, state: &AppState, refresh_token: Option<String>) -> TokenResponse {
        TokenResponse {
            access_token: self.access_token,
            token_type: "Bearer",
            expires_in: state.settings.tokens.access_ttl,
            scope: self.claims.scope,
            refresh_token,
            id_token: self.id_token,
        }
    }
}

/// ID-token members that come from the authorization request and the browser session.
#[derive(Default)]
struct IdExtra {
    nonce: Option<String>,
    sid: Option<String>,
}

fn sign_user_tokens(
    state: &AppState,
    client: &Client,
    user: &User,
    scopes: &Scopes,
    auth_time: i64,
    extra: IdExtra,
) -> Result<UserTokens, OAuthError> {
    let subject = Subject {
        sub: &user.id,
        security_stamp: Some(&user.security_stamp),
        auth_time: Some(auth_time),
    };
    let scope = scopes.to_space_delimited();
    let (access_token, claims) =
        issue_access_token(&state.keys, &state.settings, &subject, &client.id, &scope)
            .map_err(signing_failed)?;
    let id_token = if scopes.contains("openid") {
        let with_email = scopes.contains("email");
        let id = IdClaims {
            iss: claims.iss.clone(),
            sub: user.id.clone(),
            aud: client.id.clone(),
            azp: client.id.clone(),
            exp: claims.exp,
            iat: claims.iat,
            auth_time,
            at_hash: at_hash(&access_token),
            nonce: extra.nonce,
            sid: extra.sid,
            email: with_email.then(|| user.email.clone()),
            email_verified: with_email.then_some(user.email_verified),
            name: if scopes.contains("profile") {
                user.name.clone()
            } else {
                None
            },
        };
        Some(sign_id_token(&state.keys, &id).map_err(signing_failed)?)
    } else {
        None
    };
    Ok(UserTokens {
        access_token,
        claims,
        id_token,
    })
}

/// Stores the first refresh token of a new family; returns the token the client keeps and the
/// family's id.
async fn start_refresh_family(
    state: &AppState,
    client: &Client,
    user: &User,
    scopes: &Scopes,
    auth_time: i64,
    session_id: Option<String>,
    access: &AccessClaims,
) -> Result<(String, String), OAuthError> {
    let token = secrets::random_token(32);
    let now = chrono::Utc::now().timestamp();
    let row = RefreshToken {
        token_hash: secrets::hash_secret(&token),
        family_id: uuid::Uuid::new_v4().to_string(),
        client_id: client.id.clone(),
        user_id: user.id.clone(),
        scope: scopes.to_space_delimited(),
        stamp_digest: stamp_digest(&user.security_stamp),
        auth_time,
        created_at: now,
        expires_at: now + state.settings.tokens.refresh_ttl as i64,
        used_at: None,
        revoked_at: None,
        access_jti: access.jti.clone(),
        access_exp: access.exp,
        session_id,
    };
    let family = row.family_id.clone();
    state
        .store
        .run(move |c| store::insert_refresh_token(c, &row))
        .await?;
    Ok((token, family))
}

/// The stored refresh token a presented one names, if any (absurdly long input is not hashed).
pub async fn find_refresh_token(
    state: &AppState,
    presented: &str,
) -> Result<Option<RefreshToken>, OAuthError> {
    if presented.len() > 512 {
        return Ok(None);
    }
    let hash = secrets::hash_secret(presented);
    Ok(state
        .store
        .run(move |c| store::find_refresh_token(c, &hash))
        .await?)
}

/// RFC 6749 §6 with rotation (RFC 9700 §4.14.2): every use returns a new refresh token; a used
/// one presented again revokes its whole family (likely theft), and so does losing a race.
async fn refresh(
    state: &AppState,
    client: &Client,
    form: &Form,
) -> Result<TokenResponse, OAuthError> {
    let presented = form.require("refresh_token")?;
    let invalid = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    let row = find_refresh_token(state, presented)
        .await?
        .ok_or_else(invalid)?;
    // Another client's token is refused without being burned (SEC-31).
    if row.client_id != client.id || row.revoked_at.is_some() {
        return Err(invalid());
    }
    if row.used_at.is_some() {
        tracing::warn!(family = %row.family_id, client = %client.id, "refresh token reused; revoking its family");
        revoke_family(state, &row.family_id).await?;
        return Err(invalid());
    }
    let now = chrono::Utc::now().timestamp();
    if now >= row.expires_at {
        return Err(invalid());
    }
    let user_id = row.user_id.clone();
    let user = state
        .store
        .run(move |c| store::find_user_by_id(c, &user_id))
        .await?
        .ok_or_else(invalid)?;
    if !user.is_active || stamp_digest(&user.security_stamp) != row.stamp_digest {
        revoke_family(state, &row.family_id).await?;
        return Err(invalid());
    }
    // The original grant, less anything the client may no longer have or the catalogue no
    // longer knows.
    let original = Scopes::granted(&row.scope).retain(|s| {
        client.allowed_scopes.iter().any(|a| a == s) && state.settings.tokens.scopes.contains(s)
    });
    let scopes = match form.get("scope") {
        None => original.clone(),
        Some(raw) => {
            let requested = Scopes::parse(raw, &state.settings.tokens.scopes)
                .map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
            if !requested.is_subset(&original) {
                return Err(OAuthError::invalid_scope(
                    "a refresh cannot add scopes to the original grant",
                ));
            }
            requested
        }
    };
    let issued = sign_user_tokens(
        state,
        client,
        &user,
        &scopes,
        row.auth_time,
        // OpenID Connect Core §12.2: the same session as the original ID token; no nonce.
        IdExtra {
            nonce: None,
            sid: row.session_id.clone(),
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
        ..row.clone()
    };
    let spent = row.token_hash.clone();
    let rotated = state
        .store
        .run(move |c| store::rotate_refresh_token(c, &spent, now, &successor))
        .await?;
    if !rotated {
        tracing::warn!(family = %row.family_id, client = %client.id, "refresh token used concurrently; revoking its family");
        revoke_family(state, &row.family_id).await?;
        return Err(invalid());
    }
    Ok(issued.into_response(state, Some(token)))
}

/// RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6): the code is spent atomically first, then checked
/// (client, expiry, redirect URI, verifier); a failed check leaves it spent. A code presented
/// again revokes what its first redemption issued.
async fn authorization_code(
    state: &AppState,
    client: &Client,
    form: &Form,
) -> Result<TokenResponse, OAuthError> {
    let presented = form.require("code")?;
    let invalid = |why: &str| OAuthError::invalid_grant(format!("the authorization code {why}"));
    if presented.len() > 512 {
        return Err(invalid("is invalid"));
    }
    let hash = secrets::hash_secret(presented);
    let now = chrono::Utc::now().timestamp();
    let lookup = hash.clone();
    let redemption = state
        .store
        .run(move |c| store::redeem_authorization_code(c, &lookup, now))
        .await?;
    let code = match redemption {
        Redemption::Unknown => return Err(invalid("is invalid")),
        Redemption::Replayed(code, revoked) => {
            tracing::warn!(client = %code.client_id, "authorization code replayed; revoking what it issued");
            state
                .revocations
                .publish(&revoked)
                .await
                .map_err(revoke_failed)?;
            return Err(invalid("was already used"));
        }
        Redemption::Claimed(code) => code,
    };
    if code.client_id != client.id {
        return Err(invalid("was issued to another client"));
    }
    if now >= code.expires_at {
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
        (Some(challenge), Some(verifier)) if pkce_s256_matches(verifier, challenge) => {}
        (None, None) if !client.is_public => {}
        (Some(_), _) => return Err(OAuthError::invalid_grant("PKCE verification failed")),
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "a code_verifier was sent for a code issued without a challenge",
            ));
        }
        (None, None) => {
            return Err(OAuthError::invalid_grant("public clients must use PKCE"));
        }
    }
    let user_id = code.user_id.clone();
    let user = state
        .store
        .run(move |c| store::find_user_by_id(c, &user_id))
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(|| invalid("is invalid"))?;
    let scopes = Scopes::granted(&code.scope);
    let extra = IdExtra {
        nonce: code.nonce.clone(),
        sid: code.session_id.clone(),
    };
    let issued = sign_user_tokens(state, client, &user, &scopes, code.auth_time, extra)?;
    let (refresh_token, family) = if client.grant_types.contains(&GrantType::RefreshToken) {
        let (token, family) = start_refresh_family(
            state,
            client,
            &user,
            &scopes,
            code.auth_time,
            code.session_id.clone(),
            &issued.claims,
        )
        .await?;
        (Some(token), Some(family))
    } else {
        (None, None)
    };
    let (jti, exp) = (issued.claims.jti.clone(), issued.claims.exp);
    state
        .store
        .run(move |c| store::record_code_issuance(c, &hash, family.as_deref(), &jti, exp))
        .await?;
    Ok(issued.into_response(state, refresh_token))
}

/// RFC 7636 §4.1 and §4.6: a 43–128 character verifier of unreserved characters whose
/// base64url SHA-256 equals the challenge (compared in constant time).
pub fn pkce_s256_matches(verifier: &str, challenge: &str) -> bool {
    use base64::Engine;
    use sha2::Digest;
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return false;
    }
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    subtle::ConstantTimeEq::ct_eq(computed.as_bytes(), challenge.as_bytes()).into()
}

/// Revokes a refresh-token family and the access tokens issued from it.
pub async fn revoke_family(state: &AppState, family_id: &str) -> Result<(), OAuthError> {
    let family = family_id.to_owned();
    let now = chrono::Utc::now().timestamp();
    let jtis = state
        .store
        .run(move |c| store::revoke_family(c, &family, now))
        .await?;
    state
        .revocations
        .publish(&jtis)
        .await
        .map_err(revoke_failed)
}

pub fn revoke_failed(e: super::revocations::RevokeError) -> OAuthError {
    match e {
        super::revocations::RevokeError::Store(e) => e.into(),
        super::revocations::RevokeError::Unpublished(detail) => {
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

#[cfg(test)]
mod tests {
    use super::pkce_s256_matches;

    #[test]
    fn pkce_s256_per_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_s256_matches(verifier, challenge));
        assert!(!pkce_s256_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"
        ));
        assert!(!pkce_s256_matches("short", challenge));
        assert!(!pkce_s256_matches(&format!("{verifier} "), challenge));
    }
}
