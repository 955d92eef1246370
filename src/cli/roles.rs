//! The `role` and `org` commands: roles with their permissions and parents, organizations and
//! their members.

use super::block_on;
use crate::config::Settings;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Create a role; prints {"name", "permissions", "inherits"}
    Create(RoleArgs),
    /// Change a role: each flag given replaces that set (`--permission ''` empties it)
    Update(RoleArgs),
    /// Delete a role, also from every user, membership and child role; prints {"name"}
    Delete(RoleName),
    /// List roles with their effective permissions
    List,
}

#[derive(Debug, Args)]
pub struct RoleArgs {
    /// The role's name: letters, digits and _ . : -
    pub name: String,
    /// A permission (an API scope of the `scopes` setting, or irongate:admin / irongate:read);
    /// repeatable
    #[arg(long = "permission", value_name = "PERM")]
    pub permissions: Option<Vec<String>>,
    /// A role whose permissions this one inherits; repeatable
    #[arg(long = "inherits", value_name = "ROLE")]
    pub inherits: Option<Vec<String>>,
}

#[derive(Debug, Args)]
pub struct RoleName {
    pub name: String,
}

#[derive(Debug, Args)]
pub struct UserRoleArgs {
    /// The user's email address (any letter case)
    #[arg(long)]
    pub email: String,
    /// The role's name
    #[arg(long)]
    pub role: String,
    /// Inside this organization (id or slug; the user must be a member) instead of globally
    #[arg(long)]
    pub org: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization; prints {"id", "slug", "name"}
    Create(OrgCreateArgs),
    /// Make a user a member (with roles there); prints {"org_id", "user_id", "roles"}
    AddMember(OrgMemberArgs),
    /// End a membership and its roles; prints {"org_id", "user_id"}
    RemoveMember(OrgMemberArgs),
    /// List organizations with their member counts
    List,
}

#[derive(Debug, Args)]
pub struct OrgCreateArgs {
    /// 2 to 63 lowercase letters, digits and -, unique
    #[arg(long)]
    pub slug: String,
    /// Display name
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct OrgMemberArgs {
    /// The organization's id or slug
    #[arg(long)]
    pub org: String,
    /// The user's email address (any letter case)
    #[arg(long)]
    pub email: String,
    /// A role the member holds in this organization (repeatable; add-member only)
    #[arg(long = "role", value_name = "ROLE")]
    pub roles: Vec<String>,
}

/// A flag's list with empty values dropped (`--permission ''` gives an empty set).
fn non_empty(list: Option<Vec<String>>) -> Option<Vec<String>> {
    list.map(|l| l.into_iter().filter(|v| !v.is_empty()).collect())
}

pub(super) fn role(cmd: RoleCommand, settings: Settings) -> anyhow::Result<serde_json::Value> {
    Ok(match cmd {
        RoleCommand::Create(args) => {
            let permissions = non_empty(args.permissions).unwrap_or_default();
            let inherits = non_empty(args.inherits).unwrap_or_default();
            serde_json::to_value(block_on(settings, |admin| async move {
                admin.create_role(&args.name, &permissions, &inherits).await
            })?)?
        }
        RoleCommand::Update(args) => {
            let permissions = non_empty(args.permissions);
            let inherits = non_empty(args.inherits);
            serde_json::to_value(block_on(settings, |admin| async move {
                admin
                    .update_role(&args.name, permissions.as_deref(), inherits.as_deref())
                    .await
            })?)?
        }
        RoleCommand::Delete(args) => {
            serde_json::to_value(block_on(settings, |admin| async move {
                admin.delete_role(&args.name).await
            })?)?
        }
        RoleCommand::List => serde_json::to_value(block_on(settings, |admin| async move {
            admin.list_roles().await
        })?)?,
    })
}

pub(super) fn org(cmd: OrgCommand, settings: Settings) -> anyhow::Result<serde_json::Value> {
    Ok(match cmd {
        OrgCommand::Create(args) => {
            serde_json::to_value(block_on(settings, |admin| async move {
                admin.create_organization(&args.slug, &args.name).await
            })?)?
        }
        OrgCommand::AddMember(args) => {
            serde_json::to_value(block_on(settings, |admin| async move {
                admin.add_member(&args.org, &args.email, &args.roles).await
            })?)?
        }
        OrgCommand::RemoveMember(args) => {
            if !args.roles.is_empty() {
                anyhow::bail!("--role is for add-member; remove-member ends every role there");
            }
            serde_json::to_value(block_on(settings, |admin| async move {
                admin.remove_member(&args.org, &args.email).await
            })?)?
        }
        OrgCommand::List => serde_json::to_value(block_on(settings, |admin| async move {
            admin.list_organizations().await
        })?)?,
    })
}
