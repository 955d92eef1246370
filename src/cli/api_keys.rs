//! The `api-key` commands: make, list, rotate and revoke a user's API keys.

use super::block_on;
use crate::admin::ApiKeyInput;
use crate::config::Settings;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Make a key for a user; prints {"id", "key", "name", "scopes", "expires_at", …} — the only
    /// time the key is shown
    Create(ApiKeyCreateArgs),
    /// List a user's keys (never the keys themselves)
    List(ApiKeyListArgs),
    /// Replace a key; prints the new one like create. The old one keeps working for --grace
    /// seconds (default 0, at most 604800)
    Rotate(ApiKeyRotateArgs),
    /// Revoke a key at once; prints {"id"}
    Revoke(ApiKeyIdArgs),
}

#[derive(Debug, Args)]
pub struct ApiKeyCreateArgs {
    /// The user's email address (any letter case)
    #[arg(long)]
    pub email: String,
    /// What the key is for (1 to 200 characters)
    #[arg(long)]
    pub name: String,
    /// A permission of the user's the key may use; repeatable
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// Lifetime in seconds (default 90 days; at most `api_key_max_ttl`)
    #[arg(long, value_name = "SECONDS")]
    pub expires_in: Option<u64>,
    /// Bind the key to this organization (id or slug; the user must be a member)
    #[arg(long)]
    pub org: Option<String>,
}

#[derive(Debug, Args)]
pub struct ApiKeyListArgs {
    /// The user's email address (any letter case)
    #[arg(long)]
    pub email: String,
}

#[derive(Debug, Args)]
pub struct ApiKeyRotateArgs {
    /// The key's id
    #[arg(long)]
    pub id: String,
    /// Seconds the old key keeps working (0 to 604800)
    #[arg(long, value_name = "SECONDS")]
    pub grace: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ApiKeyIdArgs {
    /// The key's id
    #[arg(long)]
    pub id: String,
}

pub(super) fn api_key(cmd: ApiKeyCommand, settings: Settings) -> anyhow::Result<serde_json::Value> {
    Ok(match cmd {
        ApiKeyCommand::Create(args) => {
            let input = ApiKeyInput {
                name: args.name,
                scopes: args.scopes,
                expires_in: args.expires_in,
                organization: args.org,
            };
            serde_json::to_value(block_on(settings, |admin| async move {
                let user = admin.user_id_by_email(&args.email).await?;
                admin.create_api_key(&user, input).await
            })?)?
        }
        ApiKeyCommand::List(args) => {
            serde_json::to_value(block_on(settings, |admin| async move {
                let user = admin.user_id_by_email(&args.email).await?;
                admin.list_api_keys(&user).await
            })?)?
        }
        ApiKeyCommand::Rotate(args) => {
            serde_json::to_value(block_on(settings, |admin| async move {
                admin.rotate_api_key(&args.id, args.grace, None).await
            })?)?
        }
        ApiKeyCommand::Revoke(args) => {
            serde_json::to_value(block_on(settings, |admin| async move {
                admin.revoke_api_key(&args.id, None).await
            })?)?
        }
    })
}
