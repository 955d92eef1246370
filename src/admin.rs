//! Administrative operations behind the command line: users, clients, migrations.
//! Every input is validated before anything is written.

use crate::auth::{password, secrets};
use crate::config::{DatabaseKind, Settings};
use crate::domain::{ClientSpec, Email, Password};
use crate::store::{self, NewClient, NewUser, Store, StoreError};
use anyhow::{Context, bail};
use serde::Serialize;
use std::path::Path;

/// The user a command created or changed.
#[derive(Debug, Serialize)]
pub struct UserRef {
    pub id: String,
    pub email: String,
}

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
}

fn open(settings: &Settings) -> anyhow::Result<Store> {
    let store = Store::connect_single(settings)
        .map_err(|e| anyhow::anyhow!("configuration key `database_url`: {e}"))?;
    store
        .run_migrations()
        .context("running database migrations")?;
    Ok(store)
}

/// Runs pending migrations; returns how many were applied.
pub fn migrate(settings: &Settings) -> anyhow::Result<usize> {
    let store = Store::connect_single(settings)
        .map_err(|e| anyhow::anyhow!("configuration key `database_url`: {e}"))?;
    Ok(store.run_migrations()?)
}

pub fn create_user(
    settings: &Settings,
    email: &str,
    name: Option<&str>,
    roles: &[String],
    password: Option<String>,
) -> anyhow::Result<UserRef> {
    let email = Email::parse(email)?;
    let name = name.map(validate_name).transpose()?;
    for role in roles {
        validate_role(role)?;
    }
    let password_hash = match password {
        Some(raw) => Some(password::hash_blocking(&Password::parse_new(
            raw,
            &[email.as_str(), name.as_deref().unwrap_or("")],
        )?)?),
        None => None,
    };
    let new = NewUser {
        id: uuid::Uuid::new_v4().to_string(),
        email: email.as_str().to_owned(),
        email_normalized: email.normalized(),
        name,
        password_hash,
        email_verified: false,
        security_stamp: secrets::random_token(16),
    };
    let store = open(settings)?;
    store
        .with_conn(|c| store::insert_user(c, &new, roles))
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                anyhow::anyhow!("a user with email {} already exists", email.as_str())
            }
            other => other.into(),
        })?;
    Ok(UserRef {
        id: new.id,
        email: new.email,
    })
}

/// Disables the user: a new security stamp and every refresh token revoked, so their tokens
/// stop working at once.
pub fn disable_user(settings: &Settings, email: &str) -> anyhow::Result<UserRef> {
    end_sessions(settings, email, true)
}

/// "Log out everywhere": a new security stamp and every refresh token revoked.
pub fn logout_all(settings: &Settings, email: &str) -> anyhow::Result<UserRef> {
    end_sessions(settings, email, false)
}

fn end_sessions(settings: &Settings, email: &str, deactivate: bool) -> anyhow::Result<UserRef> {
    let stamp = secrets::random_token(16);
    let user = change_user(settings, email, |c, id| {
        store::end_all_sessions(c, id, &stamp, deactivate)
    })?;
    // Servers sharing Redis cache users' status briefly; give them the new one now.
    let status = crate::ephemeral::UserStatus {
        active: !deactivate,
        stamp_digest: crate::oauth::tokens::stamp_digest(&stamp),
    };
    if let Some(url) = &settings.redis.url
        && let Err(e) =
            crate::ephemeral::store_user_blocking(url, &settings.redis.prefix, &user.id, &status)
    {
        eprintln!(
            "irongate: warning: the change is saved, but Redis could not be told ({e}); \
             servers may accept the user's old tokens for up to a minute"
        );
    }
    Ok(user)
}

fn change_user(
    settings: &Settings,
    email: &str,
    change: impl FnOnce(&mut store::DbConnection, &str) -> Result<(), StoreError>,
) -> anyhow::Result<UserRef> {
    let email = Email::parse(email)?;
    let no_user = || anyhow::anyhow!("no user with email {}", email.as_str());
    if settings.database.kind == DatabaseKind::Sqlite
        && !Path::new(settings.database.url.trim_start_matches("sqlite://")).exists()
    {
        return Err(no_user());
    }
    let store = open(settings)?;
    store
        .with_conn(|c| {
            let user =
                store::find_user_by_email(c, &email.normalized())?.ok_or(StoreError::NotFound)?;
            change(c, &user.id)?;
            Ok(UserRef {
                id: user.id,
                email: user.email,
            })
        })
        .map_err(|e| match e {
            StoreError::NotFound => no_user(),
            other => other.into(),
        })
}

pub fn create_client(settings: &Settings, input: &ClientInput) -> anyhow::Result<CreatedClient> {
    let spec = ClientSpec::parse(
        &input.name,
        &input.redirect_uris,
        &input.post_logout_redirect_uris,
        input.public,
        &input.grant_types,
        &input.scopes,
        input.skip_consent,
        &settings.tokens.scopes,
    )?;
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
    };
    let store = open(settings)?;
    store.with_conn(|c| store::insert_client(c, &new))?;
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
    })
}

fn validate_name(name: &str) -> anyhow::Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        bail!("--name must be 1 to 200 characters without control characters");
    }
    Ok(name.to_owned())
}

fn validate_role(role: &str) -> anyhow::Result<()> {
    let ok = !role.is_empty()
        && role.len() <= 64
        && role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
        && role.as_bytes()[0].is_ascii_alphanumeric();
    if !ok {
        bail!(
            "invalid role {role:?}: use letters, digits and _ . : - (at most 64, starting with a letter or digit)"
        );
    }
    Ok(())
}
