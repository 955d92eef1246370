//! Browser sessions, stored by the SHA-256 of their cookie.

use super::schema::sessions;
use super::{DbConnection, StoreError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id_hash: String,
    /// The public session identifier (`sid` in ID tokens); never the cookie value.
    pub sid: String,
    /// Always set in stored rows; None only for a pre-login session, which is never stored.
    pub user_id: Option<String>,
    pub stamp_digest: Option<String>,
    pub auth_time: Option<i64>,
    pub csrf_secret: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

fn insert_session(conn: &mut DbConnection, session: &Session) -> Result<(), StoreError> {
    diesel::insert_into(sessions::table)
        .values(session)
        .execute(conn)?;
    Ok(())
}

/// Replaces a session by a new one in one transaction: the old cookie stops working the moment
/// the new one exists (session fixation, SEC-50).
pub fn replace_session(
    conn: &mut DbConnection,
    old_hash: Option<&str>,
    new: &Session,
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        if let Some(old) = old_hash {
            diesel::delete(sessions::table.find(old)).execute(conn)?;
        }
        insert_session(conn, new)
    })
}

pub fn find_session(conn: &mut DbConnection, id_hash: &str) -> Result<Option<Session>, StoreError> {
    Ok(sessions::table
        .find(id_hash)
        .select(Session::as_select())
        .get_result(conn)
        .optional()?)
}

/// Records activity (for the idle timeout).
pub fn touch_session(conn: &mut DbConnection, id_hash: &str, now: i64) -> Result<(), StoreError> {
    diesel::update(sessions::table.find(id_hash))
        .set(sessions::last_seen_at.eq(now))
        .execute(conn)?;
    Ok(())
}

pub fn delete_session(conn: &mut DbConnection, id_hash: &str) -> Result<(), StoreError> {
    diesel::delete(sessions::table.find(id_hash)).execute(conn)?;
    Ok(())
}

/// Whether a session with this public id (`sid`) exists and has not reached its absolute end.
pub fn session_live_by_sid(
    conn: &mut DbConnection,
    sid: &str,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        sessions::table
            .filter(sessions::sid.eq(sid))
            .filter(sessions::expires_at.gt(now)),
    ))
    .get_result(conn)?)
}

/// Ends every session of a user ("log out everywhere", disable).
pub fn delete_user_sessions(conn: &mut DbConnection, user_id: &str) -> Result<usize, StoreError> {
    Ok(diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?)
}

/// Sessions past their absolute lifetime, or idle since `idle_before`.
pub fn delete_expired_sessions(
    conn: &mut DbConnection,
    now: i64,
    idle_before: i64,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .le(now)
                .or(sessions::last_seen_at.lt(idle_before)),
        ),
    )
    .execute(conn)?)
}
