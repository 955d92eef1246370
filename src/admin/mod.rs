//! Administrative services: users, clients, roles and organizations, API keys. The command line
//! and the admin REST API call them; every input is validated before anything is written.

mod accounts;
mod api_keys;
mod clients;
pub mod listing;
mod organizations;
mod roles;
mod users;

pub use accounts::{MembershipView, UserRoles, UserView};
pub use api_keys::{
    ApiKeyInput, ApiKeyListing, ApiKeyRef, CreatedApiKey, DEFAULT_API_KEY_TTL, MAX_ROTATION_GRACE,
};
pub use clients::{ClientInput, CreatedClient, NewSecret};
pub use roles::{MembershipRef, RoleRef};
pub use users::{Changed, NewUserInput, UserRef, ValidNewUser, no_user as users_no_user};

use crate::auth::end_all::EndAll;
use crate::config::Settings;
use crate::store::{RoleGraphCache, Store, StoreError};
use std::sync::Arc;

/// Why an administrative operation failed; the message names the field or the fix.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{message}")]
    Invalid {
        /// The member (or command-line flag) at fault.
        field: std::borrow::Cow<'static, str>,
        message: String,
    },
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl AdminError {
    pub fn invalid(field: &'static str, message: impl std::fmt::Display) -> Self {
        AdminError::Invalid {
            field: field.into(),
            message: message.to_string(),
        }
    }

    /// Invalid input in a member named at run time (a JSON body's).
    pub fn invalid_member(field: String, message: impl std::fmt::Display) -> Self {
        AdminError::Invalid {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        AdminError::Store(e)
    }
}

/// The administrative services over one store.
#[derive(Clone)]
pub struct Admin {
    settings: Arc<Settings>,
    store: Store,
    end_all: EndAll,
    /// The role graph, reloaded only when it changed (shared with token issuance).
    roles: Arc<RoleGraphCache>,
}

impl Admin {
    pub fn new(
        settings: Arc<Settings>,
        store: Store,
        end_all: EndAll,
        roles: Arc<RoleGraphCache>,
    ) -> Self {
        Self {
            settings,
            store,
            end_all,
            roles,
        }
    }
}
