//! Clients: register, list, read, delete, rotate the secret.

use super::listing::{Listing, PageRequest};
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
        .map_err(|e| AdminError::invalid(e.field, e.error))
    }
}

/// A registered client; the secret appears here once and is stored only as a hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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

/// A client's new secret; the old one no longer works.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewSecret {
    pub client_id: String,
    pub client_secret: String,
}

impl From<store::Client> for CreatedClient {
    fn from(c: store::Client) -> Self {
        Self {
            client_id: c.id,
            client_secret: None,
            name: c.name,
            public: c.is_public,
            redirect_uris: c.redirect_uris,
            post_logout_redirect_uris: c.post_logout_redirect_uris,
            grant_types: c
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            scopes: c.allowed_scopes,
            skip_consent: c.skip_consent,
            require_organization: c.require_organization,
        }
    }
}

fn no_such_client(id: &str) -> AdminError {
    AdminError::NotFound(format!("no client with id {id}"))
}

impl Admin {
    /// Clients in pages, in id order (never a secret).
    pub async fn list_clients(
        &self,
        page: &PageRequest,
    ) -> Result<Listing<CreatedClient>, AdminError> {
        let (after, fetch) = (page.after.clone(), page.fetch());
        let rows = self
            .store
            .run(move |c| store::list_clients(c, &after, fetch))
            .await?;
        let views = rows.into_iter().map(CreatedClient::from).collect();
        Ok(page.page(views, |c: &CreatedClient| &c.client_id))
    }

    /// The client with `id` (never its secret).
    pub async fn client(&self, id: &str) -> Result<CreatedClient, AdminError> {
        let key = id.to_owned();
        self.store
            .run(move |c| store::find_client(c, &key))
            .await?
            .map(CreatedClient::from)
            .ok_or_else(|| no_such_client(id))
    }

    /// Deletes the client with its refresh tokens, codes and consents. Access tokens already
    /// issued to it live out their (short) lifetime.
    pub async fn delete_client(&self, id: &str) -> Result<CreatedClient, AdminError> {
        let client = self.client(id).await?;
        let key = id.to_owned();
        self.store
            .run(move |c| store::delete_client(c, &key))
            .await?;
        Ok(client)
    }

    /// A new secret for a confidential client; the old one stops working at once.
    pub async fn rotate_client_secret(&self, id: &str) -> Result<NewSecret, AdminError> {
        let client = self.client(id).await?;
        if client.public {
            return Err(AdminError::invalid(
                "client_id",
                "a public client has no secret to rotate",
            ));
        }
        let secret = secrets::new_secret();
        let (key, hash) = (id.to_owned(), secrets::hash_secret(&secret));
        let changed = self
            .store
            .run(move |c| store::set_client_secret(c, &key, &hash))
            .await?;
        if !changed {
            return Err(no_such_client(id));
        }
        Ok(NewSecret {
            client_id: client.client_id,
            client_secret: secret,
        })
    }
}
