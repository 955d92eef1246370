use super::schema::clients;
use super::{DbConnection, StoreError, now};
use crate::domain::GrantType;
use anyhow::Context;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = clients)]
struct ClientRow {
    id: String,
    name: String,
    secret_hash: Option<String>,
    is_public: bool,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    grant_types: String,
    allowed_scopes: String,
    skip_consent: bool,
    created_at: chrono::NaiveDateTime,
    require_organization: bool,
}

/// A registered client with its lists decoded.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub is_public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub allowed_scopes: Vec<String>,
    pub skip_consent: bool,
    pub created_at: chrono::NaiveDateTime,
    /// Users act inside an organization (chosen when they have several).
    pub require_organization: bool,
}

/// A client to register; the secret is already hashed.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub is_public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub allowed_scopes: Vec<String>,
    pub skip_consent: bool,
    pub require_organization: bool,
}

pub fn insert_client(conn: &mut DbConnection, new: &NewClient) -> Result<(), StoreError> {
    let grants: Vec<&str> = new.grant_types.iter().map(|g| g.as_str()).collect();
    diesel::insert_into(clients::table)
        .values((
            clients::id.eq(&new.id),
            clients::name.eq(&new.name),
            clients::secret_hash.eq(&new.secret_hash),
            clients::is_public.eq(new.is_public),
            clients::redirect_uris.eq(to_json(&new.redirect_uris)?),
            clients::post_logout_redirect_uris.eq(to_json(&new.post_logout_redirect_uris)?),
            clients::grant_types.eq(to_json(&grants)?),
            clients::allowed_scopes.eq(to_json(&new.allowed_scopes)?),
            clients::skip_consent.eq(new.skip_consent),
            clients::created_at.eq(now()),
            clients::require_organization.eq(new.require_organization),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_client(conn: &mut DbConnection, id: &str) -> Result<Option<Client>, StoreError> {
    let row = clients::table
        .find(id)
        .select(ClientRow::as_select())
        .get_result(conn)
        .optional()?;
    row.map(decode).transpose()
}

fn decode(row: ClientRow) -> Result<Client, StoreError> {
    let grants: Vec<String> = from_json(&row.grant_types)?;
    let grant_types = grants
        .iter()
        .map(|g| GrantType::parse(g).map_err(|e| anyhow::anyhow!("client {}: {e}", row.id)))
        .collect::<Result<_, _>>()?;
    Ok(Client {
        redirect_uris: from_json(&row.redirect_uris)?,
        post_logout_redirect_uris: from_json(&row.post_logout_redirect_uris)?,
        allowed_scopes: from_json(&row.allowed_scopes)?,
        grant_types,
        id: row.id,
        name: row.name,
        secret_hash: row.secret_hash,
        is_public: row.is_public,
        skip_consent: row.skip_consent,
        created_at: row.created_at,
        require_organization: row.require_organization,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    Ok(serde_json::to_string(value).context("encoding a client list")?)
}

fn from_json(raw: &str) -> Result<Vec<String>, StoreError> {
    Ok(serde_json::from_str(raw).context("decoding a client list")?)
}

/// Clients in id order after `after` (exclusive), at most `limit`.
pub fn list_clients(
    conn: &mut DbConnection,
    after: &str,
    limit: i64,
) -> Result<Vec<Client>, StoreError> {
    let rows: Vec<ClientRow> = clients::table
        .select(ClientRow::as_select())
        .filter(clients::id.gt(after))
        .order(clients::id.asc())
        .limit(limit)
        .load(conn)?;
    rows.into_iter().map(decode).collect()
}

/// Deletes the client and, through the foreign keys, its refresh tokens, codes and consents;
/// false when there was no such client.
pub fn delete_client(conn: &mut DbConnection, id: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(clients::table.find(id)).execute(conn)? > 0)
}

/// Replaces a confidential client's secret hash (the old secret stops working at once); false
/// when there is no such confidential client.
pub fn set_client_secret(
    conn: &mut DbConnection,
    id: &str,
    secret_hash: &str,
) -> Result<bool, StoreError> {
    Ok(
        diesel::update(clients::table.find(id).filter(clients::is_public.eq(false)))
            .set(clients::secret_hash.eq(secret_hash))
            .execute(conn)?
            > 0,
    )
}
