//! API keys: stored as the SHA-256 of the key only, found by that hash (the current one, or the
//! previous one while a rotation's grace lasts).

use super::schema::api_keys;
use super::{DbConnection, StoreError};
use diesel::prelude::*;
use subtle::ConstantTimeEq;

/// How often `last_used_at` is written for one key at most (seconds).
pub const LAST_USED_GRANULARITY: i64 = 300;

/// An API key as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub user_id: String,
    pub org_id: Option<String>,
    pub name: String,
    pub key_hash: String,
    /// The recognisable, harmless form of the key (`igk_abcd…wxyz`).
    pub display: String,
    /// Space-delimited.
    pub scopes: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The hash of the key this one replaced, valid until `previous_until`.
    pub previous_hash: Option<String>,
    pub previous_until: Option<i64>,
}

impl ApiKeyRow {
    /// Whether the key with `hash` (this row's current or previous hash) works at `now`.
    pub fn accepts(&self, hash: &str, now: i64) -> bool {
        if self.revoked_at.is_some() || now >= self.expires_at {
            return false;
        }
        // Constant-time comparisons (the row was found by this hash, but no comparison of a
        // secret's digest should leak where it differs).
        let same = |stored: &str| bool::from(stored.as_bytes().ct_eq(hash.as_bytes()));
        if same(&self.key_hash) {
            return true;
        }
        self.previous_hash.as_deref().is_some_and(same)
            && self.previous_until.is_some_and(|t| now < t)
    }
}

pub fn insert_api_key(conn: &mut DbConnection, row: &ApiKeyRow) -> Result<(), StoreError> {
    diesel::insert_into(api_keys::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The key whose current or previous hash is `hash`, whatever its state (the caller judges).
pub fn find_api_key_by_hash(
    conn: &mut DbConnection,
    hash: &str,
) -> Result<Option<ApiKeyRow>, StoreError> {
    Ok(on_backend!(conn, |c| api_keys::table
        .filter(
            api_keys::key_hash
                .eq(hash)
                .or(api_keys::previous_hash.eq(hash)),
        )
        .select(ApiKeyRow::as_select())
        .get_result(c)
        .optional())?)
}

pub fn find_api_key(conn: &mut DbConnection, id: &str) -> Result<Option<ApiKeyRow>, StoreError> {
    Ok(api_keys::table
        .find(id)
        .select(ApiKeyRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// A user's keys, newest first (revoked ones included: the list says so).
pub fn list_api_keys(conn: &mut DbConnection, user_id: &str) -> Result<Vec<ApiKeyRow>, StoreError> {
    Ok(api_keys::table
        .filter(api_keys::user_id.eq(user_id))
        .order((api_keys::created_at.desc(), api_keys::id))
        .select(ApiKeyRow::as_select())
        .load(conn)?)
}

/// Replaces a live key's hash; the old one keeps working until `previous_until` (`now` for no
/// grace), and a grace still running from an earlier rotation ends. One conditional UPDATE,
/// bound to the hash the key had when it was read: of two concurrent rotations one wins, the
/// other changes nothing. False when the key is revoked, expired or was rotated meanwhile.
pub fn rotate_api_key(
    conn: &mut DbConnection,
    id: &str,
    new_hash: &str,
    display: &str,
    now: i64,
    previous_until: i64,
) -> Result<bool, StoreError> {
    let Some(row) = find_api_key(conn, id)? else {
        return Ok(false);
    };
    let changed = diesel::update(
        api_keys::table
            .find(id)
            .filter(api_keys::key_hash.eq(&row.key_hash))
            .filter(api_keys::revoked_at.is_null())
            .filter(api_keys::expires_at.gt(now)),
    )
    .set((
        api_keys::key_hash.eq(new_hash),
        api_keys::display.eq(display),
        api_keys::previous_hash.eq(Some(&row.key_hash)),
        api_keys::previous_until.eq(Some(previous_until)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Revokes a key; false when there is no such key.
pub fn revoke_api_key(conn: &mut DbConnection, id: &str, now: i64) -> Result<bool, StoreError> {
    let changed = diesel::update(api_keys::table.find(id))
        .set(api_keys::revoked_at.eq(Some(now)))
        .filter(api_keys::revoked_at.is_null())
        .execute(conn)?;
    Ok(changed == 1 || find_api_key(conn, id)?.is_some())
}

/// Revokes every live key of a user (`user disable`); returns their ids.
pub fn revoke_user_api_keys(
    conn: &mut DbConnection,
    user_id: &str,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    let ids: Vec<String> = api_keys::table
        .filter(api_keys::user_id.eq(user_id))
        .filter(api_keys::revoked_at.is_null())
        .select(api_keys::id)
        .load(conn)?;
    diesel::update(
        api_keys::table
            .filter(api_keys::user_id.eq(user_id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(ids)
}

/// Records a use: one conditional update that writes only when the last recorded use is older
/// than `LAST_USED_GRANULARITY` (no row lock is taken when it is recent). True when it wrote.
pub fn touch_api_key(conn: &mut DbConnection, id: &str, now: i64) -> Result<bool, StoreError> {
    let before = now - LAST_USED_GRANULARITY;
    let changed = on_backend!(conn, |c| diesel::update(
        api_keys::table.find(id).filter(
            api_keys::last_used_at
                .is_null()
                .or(api_keys::last_used_at.le(before)),
        ),
    )
    .set(api_keys::last_used_at.eq(Some(now)))
    .execute(c))?;
    Ok(changed == 1)
}
