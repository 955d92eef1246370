//! Persistence. The only module that names diesel.

/// Runs `$body` with `$c` bound to the concrete connection of whichever backend `$conn` holds.
/// diesel's `MultiConnection` turns a query into SQL text on every execution, even when the
/// prepared statement is cached (a quarter of introspection's instructions, measured with
/// callgrind); the queries on the token paths bypass it this way. The body is compiled once
/// per backend, so it is kept to queries that run on every request.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConnection::Sqlite($c) => $body,
            $crate::store::DbConnection::Pg($c) => $body,
        }
    };
}

mod access;
mod api_keys;
mod authorization_codes;
mod clients;
mod consents;
mod federation;
mod organizations;
mod pool;
mod refresh_tokens;
mod role_assignments;
mod roles;
pub mod schema;
mod sessions;
mod users;
mod writer;

pub use access::{EffectiveAccess, RoleGraphCache, effective_access};
pub use api_keys::{
    ApiKeyRow, LAST_USED_GRANULARITY, find_api_key, find_api_key_by_hash, insert_api_key,
    list_api_keys, revoke_api_key, revoke_user_api_keys, rotate_api_key, touch_api_key,
};
pub use authorization_codes::{
    AuthorizationCode, Planned, Redemption, code_issuance_revoked, delete_expired_codes,
    insert_authorization_code, insert_code_family, redeem_authorization_code,
};
pub use clients::{
    Client, NewClient, delete_client, find_client, insert_client, list_clients, set_client_secret,
};
pub use consents::{find_consent, save_consent};
pub use federation::{
    find_identity, has_identity_at, insert_federated_user, link_identity, unlink_identity,
};
pub use organizations::{
    Organization, OrganizationListing, add_member, delete_organization, find_organization,
    insert_organization, is_member, list_organizations, member_count, remove_member,
    user_memberships, user_organizations,
};
pub use pool::{DbConnection, Store};
pub use refresh_tokens::{
    RefreshToken, RefreshTokenStanding, RevokedJti, claim_and_replace, delete_expired,
    find_refresh_token, insert_refresh_token, insert_revoked, is_revoked, refresh_token_standing,
    revoke_family, revoke_user_refresh_tokens, unexpired_revoked,
};
pub use role_assignments::{assign_role, change_user_role, find_user_roles, replace_user_roles};
pub use roles::{
    RoleDef, RoleGraph, RoleListing, RoleRefusal, create_role, delete_role, list_roles, update_role,
};
pub use sessions::{
    Session, delete_expired_sessions, delete_session, delete_user_sessions, find_session,
    replace_session, session_live_by_sid, touch_session,
};
pub use users::{
    NewUser, User, delete_user, enable_user, end_all_sessions, end_all_sessions_setting,
    find_user_by_email, find_user_by_id, insert_user, list_users, prune_deleted_users,
    set_security_stamp, set_user_active, set_user_name, update_password_hash, users_changed_since,
    users_deleted_since,
};
pub use writer::write_transaction;

/// What can go wrong in storage, as the layers above need to tell it apart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The database cannot be reached (pool timeout, connection refused).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => StoreError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                StoreError::Conflict("record")
            }
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => StoreError::Unavailable(info.message().to_owned()),
            // SQLite still busy after `busy_timeout`: a transient condition, not a bug.
            Error::DatabaseError(_, info) if sqlite_busy(info.message()) => {
                StoreError::Unavailable(info.message().to_owned())
            }
            other => StoreError::Unexpected(anyhow::Error::new(other)),
        }
    }
}

impl StoreError {
    /// Logs the error: an unreachable database once, then at most once every ten seconds with
    /// the number of failures in between (a database that is down must not write a line per
    /// request); anything else every time, with its chain.
    pub fn log(&self, context: &str) {
        match self {
            StoreError::Unavailable(detail) => log_unavailable(context, detail),
            other => tracing::error!(error = ?anyhow::anyhow!("{other}"), "{context}"),
        }
    }
}

fn log_unavailable(context: &str, detail: &str) {
    static UNAVAILABLE: crate::telemetry::Throttle =
        crate::telemetry::Throttle::new(std::time::Duration::from_secs(10));
    if let Some(suppressed) = UNAVAILABLE.admit() {
        // libpq's messages run over several lines: one log line each.
        let detail = detail.split_whitespace().collect::<Vec<_>>().join(" ");
        tracing::error!(%detail, suppressed, "database unavailable: {context}");
    }
}

/// Whether an SQLite error message says another connection holds the lock.
fn sqlite_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database is busy")
}

/// Current time in UTC, truncated to microseconds so both backends store it identically (the
/// `Timestamp` columns of the first tables: users, clients, roles). Tables added since, and every
/// table to come, store times as `BigInt` unix seconds in UTC, compared with `unix_now()`.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(now, chrono::TimeDelta::microseconds(1)).unwrap_or(now)
}

/// Now, in unix seconds (UTC): the one time representation of every table after the first.
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}
