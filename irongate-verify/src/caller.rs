//! Who is calling, as a verified access token says, and the one-line checks handlers make:
//! scope, role, permission, organization role, ownership.

use crate::claims::AccessClaims;
use crate::error::Rejection;
use serde::Serialize;

/// The caller of a request, from a verified access token (or an API key exchanged for one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Caller {
    /// The user (or, for a client acting for itself, the client).
    pub sub: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    /// Effective global roles.
    pub roles: Vec<String>,
    /// Effective permissions, within the granted scope.
    pub permissions: Vec<String>,
    /// The active organization.
    pub org_id: Option<String>,
    /// Roles inside the active organization.
    pub org_roles: Vec<String>,
    pub jti: String,
    /// The API key the token was exchanged for, when it was.
    pub api_key_id: Option<String>,
}

impl From<AccessClaims> for Caller {
    fn from(c: AccessClaims) -> Self {
        Self {
            scopes: c
                .scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            sub: c.sub,
            client_id: c.client_id,
            roles: c.roles,
            permissions: c.permissions,
            org_id: c.org_id,
            org_roles: c.org_roles,
            jti: c.jti,
            api_key_id: c.api_key_id,
        }
    }
}

impl Caller {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    pub fn has_org_role(&self, role: &str) -> bool {
        self.org_roles.iter().any(|r| r == role)
    }

    /// 403 `insufficient_scope` (naming `scope`) unless the token was granted it.
    pub fn require_scope(&self, scope: &str) -> Result<(), Rejection> {
        ok_or(self.has_scope(scope), || {
            Rejection::insufficient_scope(scope)
        })
    }

    /// 403 unless the caller holds `role` (globally).
    pub fn require_role(&self, role: &str) -> Result<(), Rejection> {
        ok_or(self.has_role(role), || {
            Rejection::forbidden(format!("the role {role} is required"))
        })
    }

    /// 403 `insufficient_scope` (naming `permission`) unless the token carries it.
    pub fn require_permission(&self, permission: &str) -> Result<(), Rejection> {
        ok_or(self.has_permission(permission), || {
            Rejection::insufficient_scope(permission)
        })
    }

    /// 403 unless the caller acts inside an organization where they hold `role`.
    pub fn require_org_role(&self, role: &str) -> Result<(), Rejection> {
        ok_or(self.org_id.is_some() && self.has_org_role(role), || {
            Rejection::forbidden(format!("the organization role {role} is required"))
        })
    }

    /// The active organization, or 403 when the token has none.
    pub fn require_org(&self) -> Result<&str, Rejection> {
        self.org_id
            .as_deref()
            .ok_or_else(|| Rejection::forbidden("the token has no organization"))
    }

    /// 403 unless the caller is `owner` or holds one of `roles` (an admin editing anyone's).
    pub fn require_owner_or(&self, owner: &str, roles: &[&str]) -> Result<(), Rejection> {
        ok_or(
            self.sub == owner || roles.iter().any(|r| self.has_role(r)),
            || Rejection::forbidden("only the owner may do this"),
        )
    }
}

fn ok_or(allowed: bool, refusal: impl FnOnce() -> Rejection) -> Result<(), Rejection> {
    if allowed { Ok(()) } else { Err(refusal()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            sub: "u1".into(),
            client_id: "c".into(),
            scopes: vec!["openid".into(), "posts:write".into()],
            roles: vec!["editor".into()],
            permissions: vec!["posts:write".into()],
            org_id: Some("acme".into()),
            org_roles: vec!["auditor".into()],
            jti: "j".into(),
            api_key_id: None,
        }
    }

    #[test]
    fn checks_allow_what_the_token_carries_and_nothing_else() {
        let c = caller();
        assert!(c.require_scope("posts:write").is_ok());
        assert_eq!(
            c.require_scope("posts:delete"),
            Err(Rejection::insufficient_scope("posts:delete"))
        );
        assert!(c.require_role("editor").is_ok() && c.require_role("admin").is_err());
        assert!(c.require_permission("posts:write").is_ok());
        assert!(c.require_permission("users:read").is_err());
        assert!(c.require_org_role("auditor").is_ok() && c.require_org_role("owner").is_err());
        assert!(c.require_owner_or("u1", &[]).is_ok());
        assert!(c.require_owner_or("u2", &["admin"]).is_err());
        assert!(c.require_owner_or("u2", &["editor"]).is_ok());
        let no_org = Caller {
            org_id: None,
            ..caller()
        };
        assert!(no_org.require_org_role("auditor").is_err() && no_org.require_org().is_err());
    }
}
