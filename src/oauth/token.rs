//! The token endpoint (RFC 6749 §3.2): client authentication, then the grant.

use super::client_auth;
use super::error::{ErrorCode, OAuthError};
use super::form::Form;
use super::tokens::{IdClaims, Subject, at_hash, issue_access_token, sign_id_token};
use crate::auth::password::Verified;
use crate::domain::{Email, GrantType, Scopes};
use crate::startup::AppState;
use crate::store::{self, Client};
use serde::Serialize;

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// Handles one token request.
pub async fn token(
    state: &AppState,
    authorization: Option<&str>,
    form: &Form,
) -> Result<TokenResponse, OAuthError> {
    let client = client_auth::authenticate(&state.store, authorization, form).await?;
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
        GrantType::Password => password(state, &client, form).await,
        GrantType::AuthorizationCode | GrantType::RefreshToken => Err(unsupported()),
    }
}

/// The requested scopes, which must all be allowed to the client; all allowed ones when absent.
fn granted_scopes(state: &AppState, client: &Client, form: &Form) -> Result<Scopes, OAuthError> {
    let allowed = Scopes::from_names(
        client.allowed_scopes.iter().map(String::as_str),
        &state.settings.scopes,
    )
    .map_err(|_| OAuthError::server_error())?;
    let Some(raw) = form.get("scope") else {
        return Ok(allowed);
    };
    let requested = Scopes::parse(raw, &state.settings.scopes)
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
        expires_in: state.settings.access_token_ttl,
        scope,
        id_token: None,
    })
}

/// RFC 6749 §4.3, for clients registered for it. Unknown user, wrong password and inactive user
/// are one answer in one time (no enumeration).
async fn password(
    state: &AppState,
    client: &Client,
    form: &Form,
) -> Result<TokenResponse, OAuthError> {
    let username = form.require("username")?.to_owned();
    let password = form.require("password")?.to_owned();
    let scopes = granted_scopes(state, client, form)?;
    let user = match Email::parse(&username) {
        Ok(email) => {
            let normalized = email.normalized();
            state
                .store
                .run(move |c| store::find_user_by_email(c, &normalized))
                .await?
        }
        Err(_) => None,
    };
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let verified = state
        .passwords
        .verify(password, stored)
        .await
        .map_err(|_| OAuthError::server_error())?;
    let bad = || OAuthError::invalid_grant("invalid username or password");
    let (user, rehash) = match (user, verified) {
        (Some(user), Verified::Match { rehash }) if user.is_active => (user, rehash),
        _ => return Err(bad()),
    };
    if let Some(hash) = rehash {
        let id = user.id.clone();
        state
            .store
            .run(move |c| store::update_password_hash(c, &id, &hash))
            .await?;
    }
    let now = chrono::Utc::now().timestamp();
    let subject = Subject {
        sub: &user.id,
        security_stamp: Some(&user.security_stamp),
        auth_time: Some(now),
    };
    let scope = scopes.to_space_delimited();
    let (access_token, claims) =
        issue_access_token(&state.keys, &state.settings, &subject, &client.id, &scope)
            .map_err(signing_failed)?;
    let id_token = if scopes.contains("openid") {
        let id = IdClaims {
            iss: claims.iss.clone(),
            sub: user.id.clone(),
            aud: client.id.clone(),
            azp: client.id.clone(),
            exp: claims.exp,
            iat: now,
            auth_time: now,
            at_hash: at_hash(&access_token),
            nonce: None,
            email: scopes.contains("email").then(|| user.email.clone()),
            email_verified: scopes.contains("email").then_some(user.email_verified),
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
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.settings.access_token_ttl,
        scope,
        id_token,
    })
}

fn signing_failed(e: crate::keys::KeyError) -> OAuthError {
    tracing::error!(error = %e, "signing a token failed");
    OAuthError::server_error()
}
