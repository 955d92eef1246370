//! The token endpoint (RFC 6749 §3.2): client authentication, then the grant, one file each.

mod authorization_code;
mod client_credentials;
mod password;
mod refresh_token;
mod token_exchange;

use super::client_auth::Clients;
use super::error::{ErrorCode, OAuthError};
use super::form::Form;
use super::issue::{Issuer, TokenResponse};
use crate::auth::api_keys::ApiKeyVerifier;
use crate::auth::sign_in::SignIn;
use crate::config::Settings;
use crate::domain::{GrantType, Scopes};
use crate::store::{Client, Store};
use std::net::IpAddr;
use std::sync::Arc;

/// Who is asking, beyond the form: the `Authorization` header and the client's IP address.
pub struct TokenRequest<'a> {
    pub authorization: Option<&'a str>,
    pub client_ip: IpAddr,
    pub form: &'a Form,
}

/// The token endpoint's service.
#[derive(Clone)]
pub struct TokenEndpoint {
    settings: Arc<Settings>,
    store: Store,
    clients: Clients,
    issuer: Issuer,
    sign_in: SignIn,
    api_keys: ApiKeyVerifier,
}

impl TokenEndpoint {
    pub fn new(
        settings: Arc<Settings>,
        store: Store,
        clients: Clients,
        issuer: Issuer,
        sign_in: SignIn,
        api_keys: ApiKeyVerifier,
    ) -> Self {
        Self {
            settings,
            store,
            clients,
            issuer,
            sign_in,
            api_keys,
        }
    }

    /// Handles one token request.
    pub async fn token(&self, req: &TokenRequest<'_>) -> Result<TokenResponse, OAuthError> {
        let form = req.form;
        let client = self.clients.authenticate(req.authorization, form).await?;
        tracing::Span::current().record("client_id", client.id.as_str());
        let grant = form.require("grant_type")?;
        let grant = GrantType::parse(grant).map_err(|_| {
            OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!("grant type {grant:?} is not supported"),
            )
        })?;
        if !client.grant_types.contains(&grant) {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                format!("this client may not use the {grant} grant"),
            ));
        }
        let issued = match grant {
            GrantType::ClientCredentials => self.client_credentials(&client, form),
            GrantType::Password => self.password(&client, req).await,
            GrantType::RefreshToken => self.refresh_token(&client, form).await,
            GrantType::AuthorizationCode => self.authorization_code(&client, form).await,
            GrantType::TokenExchange => self.token_exchange(&client, form).await,
        };
        if issued.is_ok() {
            crate::metrics::token_issued(grant.as_str());
        }
        issued
    }

    /// The requested scopes, which must all be allowed to the client; all allowed ones when
    /// absent.
    fn granted_scopes(&self, client: &Client, form: &Form) -> Result<Scopes, OAuthError> {
        // A scope registered for the client but since removed from the catalogue is not
        // granted.
        let allowed = Scopes::known(
            client.allowed_scopes.iter().map(String::as_str),
            &self.settings.tokens.scopes,
        );
        self.requested_within(
            form,
            allowed,
            "a requested scope is not allowed for this client",
        )
    }

    /// The scopes the form's `scope` names, which must all be within `allowed` (else
    /// `invalid_scope` saying `beyond`); all of `allowed` when the form names none.
    fn requested_within(
        &self,
        form: &Form,
        allowed: Scopes,
        beyond: &'static str,
    ) -> Result<Scopes, OAuthError> {
        let Some(raw) = form.get("scope") else {
            return Ok(allowed);
        };
        let requested = Scopes::parse(raw, &self.settings.tokens.scopes)
            .map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
        if !requested.is_subset(&allowed) {
            return Err(OAuthError::invalid_scope(beyond));
        }
        Ok(requested)
    }
}
