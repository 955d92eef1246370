//! Clients: register.

use super::{Admin, AdminError};
use crate::auth::secrets;
use crate::domain::{ClientSpec, ScopeCatalogue};
use crate::store::{self, NewClient};
use serde::Serialize;

/// The input of `irongate client create`.
#[derive(Debug, Default)]
pub struct ClientInput {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub skip_consent: bool,
    pub require_organization: bool,
}

impl ClientInput {
    /// Checks every field against the scope catalogue, without touching the database.
    pub fn validate(&self, catalogue: &ScopeCatalogue) -> Result<ClientSpec, AdminError> {
        ClientSpec::parse(
            &self.name,
            &self.redirect_uris,
            &self.post_logout_redirect_uris,
            self.public,
            &self.grant_types,
            &self.scopes,
            self.skip_consent,
            catalogue,
        )
        .map_err(|e| AdminError::invalid("client", e))
    }
}

/// A registered client; the secret appears here once and is stored only as a hash.
#[derive(Debug, Serialize)]
pub struct CreatedClient {
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub name: String,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub skip_consent: bool,
    pub require_organization: bool,
}

impl Admin {
    pub async fn create_client(&self, input: &ClientInput) -> Result<CreatedClient, AdminError> {
        let spec = input.validate(&self.settings.tokens.scopes)?;
        let secret = (!spec.public).then(secrets::new_secret);
        let new = NewClient {
            id: secrets::random_token(16),
            name: spec.name.clone(),
            secret_hash: secret.as_deref().map(secrets::hash_secret),
            is_public: spec.public,
            redirect_uris: spec
                .redirect_uris
                .iter()
                .map(|u| u.as_str().to_owned())
                .collect(),
            post_logout_redirect_uris: spec
                .post_logout_redirect_uris
                .iter()
                .map(|u| u.as_str().to_owned())
                .collect(),
            grant_types: spec.grant_types.clone(),
            allowed_scopes: spec.scopes.iter().map(str::to_owned).collect(),
            skip_consent: spec.skip_consent,
            require_organization: input.require_organization,
        };
        let row = new.clone();
        self.store
            .run(move |c| store::insert_client(c, &row))
            .await?;
        Ok(CreatedClient {
            client_id: new.id,
            client_secret: secret,
            name: new.name,
            public: new.is_public,
            redirect_uris: new.redirect_uris,
            post_logout_redirect_uris: new.post_logout_redirect_uris,
            grant_types: new
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            scopes: new.allowed_scopes,
            skip_consent: new.skip_consent,
            require_organization: new.require_organization,
        })
    }
}
