//! RFC 8693 token exchange: an API key (`subject_token`) for a short-lived access token of its
//! user, by a confidential client registered for the grant.

use super::TokenEndpoint;
use crate::auth::access::Rejected;
use crate::domain::Scopes;
use crate::oauth::error::OAuthError;
use crate::oauth::form::Form;
use crate::oauth::issue::{ACCESS_TOKEN_TYPE, TokenResponse};
use crate::store::Client;

/// The subject token type of an irongate API key.
pub const API_KEY_TOKEN_TYPE: &str = "urn:irongate:params:oauth:token-type:api_key";

impl TokenEndpoint {
    pub(super) async fn token_exchange(
        &self,
        client: &Client,
        form: &Form,
    ) -> Result<TokenResponse, OAuthError> {
        let subject = form.require("subject_token")?;
        let subject_type = form.require("subject_token_type")?;
        if subject_type != API_KEY_TOKEN_TYPE {
            return Err(OAuthError::invalid_request(
                "subject_token_type must be urn:irongate:params:oauth:token-type:api_key",
            ));
        }
        if let Some(requested) = form.get("requested_token_type")
            && requested != ACCESS_TOKEN_TYPE
        {
            return Err(OAuthError::invalid_request(
                "requested_token_type may only be urn:ietf:params:oauth:token-type:access_token",
            ));
        }
        if form.get("actor_token").is_some() {
            return Err(OAuthError::invalid_request(
                "delegation (actor_token) is not supported",
            ));
        }
        let key = match self.api_keys.verify(subject).await {
            Ok(key) => key,
            Err(Rejected::Invalid(_)) => {
                return Err(OAuthError::invalid_grant(
                    "the API key is invalid, expired or revoked",
                ));
            }
            Err(Rejected::Unavailable) => return Err(OAuthError::unavailable()),
        };
        // The key's scopes that its user still has; `scope` may narrow them, never widen.
        let allowed = Scopes::granted(&key.scope);
        let scope =
            self.requested_within(form, allowed, "a requested scope is beyond the key's")?;
        self.issuer.exchanged_token(client, &key, &scope)
    }
}
