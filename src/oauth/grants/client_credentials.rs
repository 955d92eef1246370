//! RFC 6749 §4.4: the client acts on its own behalf.

use super::TokenEndpoint;
use crate::oauth::error::OAuthError;
use crate::oauth::form::Form;
use crate::oauth::issue::TokenResponse;
use crate::store::Client;

impl TokenEndpoint {
    pub(super) fn client_credentials(
        &self,
        client: &Client,
        form: &Form,
    ) -> Result<TokenResponse, OAuthError> {
        let scopes = self.granted_scopes(client, form)?;
        self.issuer.client_token(client, &scopes)
    }
}
