//! Plain domain types. Each `parse` validates; nothing here knows about HTTP or SQL.

pub mod api_key;
mod client_spec;
mod email;
mod password;
pub mod pkce;
mod redirect_uri;
mod scope;

pub use client_spec::{ClientSpec, GrantType};
pub use email::Email;
pub use password::{Password, normalize as normalize_password};
pub use redirect_uri::RedirectUri;
pub use scope::{DEFAULT_CLIENT_SCOPES, OIDC_SCOPES, RESERVED_PERMISSIONS, ScopeCatalogue, Scopes};

/// A validation failure: the message says what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
