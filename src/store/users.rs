use super::schema::users;
use super::{DbConnection, StoreError, now};
use diesel::prelude::*;

/// A user as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub email: String,
    pub email_normalized: String,
    pub name: Option<String>,
    pub password_hash: Option<String>,
    pub is_active: bool,
    pub email_verified: bool,
    pub security_stamp: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub email: String,
    pub email_normalized: String,
    pub name: Option<String>,
    pub password_hash: Option<String>,
    pub email_verified: bool,
    pub security_stamp: String,
}

/// Inserts a user and their global roles (created on first use) in one transaction.
/// An email that exists in any letter case is a `Conflict`.
pub fn insert_user(
    conn: &mut DbConnection,
    new: &NewUser,
    role_names: &[String],
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        let exists = users::table
            .filter(users::email_normalized.eq(&new.email_normalized))
            .count()
            .get_result::<i64>(conn)?;
        if exists > 0 {
            return Err(StoreError::Conflict("a user with this email"));
        }
        let at = now();
        diesel::insert_into(users::table)
            .values((
                users::id.eq(&new.id),
                users::email.eq(&new.email),
                users::email_normalized.eq(&new.email_normalized),
                users::name.eq(&new.name),
                users::password_hash.eq(&new.password_hash),
                users::is_active.eq(true),
                users::email_verified.eq(new.email_verified),
                users::security_stamp.eq(&new.security_stamp),
                users::created_at.eq(at),
                users::updated_at.eq(at),
            ))
            .execute(conn)
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict("a user with this email"),
                other => other,
            })?;
        for name in role_names {
            super::role_assignments::assign_role(conn, &new.id, name)?;
        }
        Ok(())
    })
}

pub fn find_user_by_email(
    conn: &mut DbConnection,
    normalized: &str,
) -> Result<Option<User>, StoreError> {
    Ok(users::table
        .filter(users::email_normalized.eq(normalized))
        .select(User::as_select())
        .get_result(conn)
        .optional()?)
}

pub fn find_user_by_id(conn: &mut DbConnection, id: &str) -> Result<Option<User>, StoreError> {
    Ok(on_backend!(conn, |c| users::table
        .find(id)
        .select(User::as_select())
        .get_result(c)
        .optional())?)
}

/// Replaces the security stamp: every token carrying the old one stops working.
pub fn set_security_stamp(
    conn: &mut DbConnection,
    user_id: &str,
    stamp: &str,
) -> Result<(), StoreError> {
    let n = diesel::update(users::table.find(user_id))
        .set((users::security_stamp.eq(stamp), users::updated_at.eq(now())))
        .execute(conn)?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Enables or disables a user, replacing the security stamp in the same statement.
pub fn set_user_active(
    conn: &mut DbConnection,
    user_id: &str,
    active: bool,
    stamp: &str,
) -> Result<(), StoreError> {
    let n = diesel::update(users::table.find(user_id))
        .set((
            users::is_active.eq(active),
            users::security_stamp.eq(stamp),
            users::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Enables a disabled user (the caller replaces the security stamp in the same transaction).
pub fn enable_user(conn: &mut DbConnection, user_id: &str) -> Result<(), StoreError> {
    diesel::update(users::table.find(user_id))
        .set((users::is_active.eq(true), users::updated_at.eq(now())))
        .execute(conn)?;
    Ok(())
}

/// Stores a new hash of the same password (a transparent parameter upgrade).
/// Replaces the stored hash with a rehash of the same password, only while the stored one is
/// still `verified` (the hash the password was just checked against): a sign-in that raced a
/// password change never puts the old password back.
pub fn update_password_hash(
    conn: &mut DbConnection,
    user_id: &str,
    verified: &str,
    hash: &str,
) -> Result<(), StoreError> {
    diesel::update(
        users::table
            .find(user_id)
            .filter(users::password_hash.eq(verified)),
    )
    .set((users::password_hash.eq(hash), users::updated_at.eq(now())))
    .execute(conn)?;
    Ok(())
}

/// "Log out everywhere" (and disable, with `deactivate`): a new security stamp, and every
/// refresh token of the user revoked, in one transaction.
pub fn end_all_sessions(
    conn: &mut DbConnection,
    user_id: &str,
    new_stamp: &str,
    deactivate: bool,
) -> Result<(), StoreError> {
    end_all_sessions_setting(conn, user_id, new_stamp, deactivate, None)
}

/// `end_all_sessions`, storing `password_hash` in the same transaction when given (a password
/// change: no sign-in with the old password can slip in between).
pub fn end_all_sessions_setting(
    conn: &mut DbConnection,
    user_id: &str,
    new_stamp: &str,
    deactivate: bool,
    password_hash: Option<&str>,
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        if let Some(hash) = password_hash {
            diesel::update(users::table.find(user_id))
                .set((users::password_hash.eq(hash), users::updated_at.eq(now())))
                .execute(conn)?;
        }
        if deactivate {
            set_user_active(conn, user_id, false, new_stamp)?;
            // Keys are credentials, not sessions: only disabling the user ends them.
            super::revoke_user_api_keys(conn, user_id, chrono::Utc::now().timestamp())?;
        } else {
            set_security_stamp(conn, user_id, new_stamp)?;
        }
        super::revoke_user_refresh_tokens(conn, user_id, chrono::Utc::now().timestamp())?;
        super::delete_user_sessions(conn, user_id)?;
        Ok(())
    })
}

/// Users in id order after `after` (exclusive), at most `limit`; with `email_normalized`, only
/// the user who has that email.
pub fn list_users(
    conn: &mut DbConnection,
    email_normalized: Option<&str>,
    after: &str,
    limit: i64,
) -> Result<Vec<User>, StoreError> {
    let base = users::table
        .select(User::as_select())
        .filter(users::id.gt(after))
        .order(users::id.asc())
        .limit(limit);
    Ok(match email_normalized {
        Some(email) => base.filter(users::email_normalized.eq(email)).load(conn)?,
        None => base.load(conn)?,
    })
}

/// Sets the user's display name; false when there is no such user.
pub fn set_user_name(
    conn: &mut DbConnection,
    user_id: &str,
    name: Option<&str>,
) -> Result<bool, StoreError> {
    Ok(diesel::update(users::table.find(user_id))
        .set((users::name.eq(name), users::updated_at.eq(now())))
        .execute(conn)?
        > 0)
}

/// Deletes the user and, through the foreign keys, everything of theirs (sessions, refresh
/// tokens, codes, consents, roles, memberships, API keys, linked identities), and remembers the
/// deletion for the revocation feed; false when there was no such user.
pub fn delete_user(conn: &mut DbConnection, user_id: &str) -> Result<bool, StoreError> {
    conn.transaction(|conn| {
        let deleted = diesel::delete(users::table.find(user_id)).execute(conn)? > 0;
        if deleted {
            diesel::insert_into(super::schema::deleted_users::table)
                .values((
                    super::schema::deleted_users::user_id.eq(user_id),
                    super::schema::deleted_users::deleted_at.eq(super::unix_now()),
                ))
                .execute(conn)?;
        }
        Ok(deleted)
    })
}

/// Users deleted at or after `since` (unix seconds): id, when.
pub fn users_deleted_since(
    conn: &mut DbConnection,
    since: i64,
) -> Result<Vec<(String, i64)>, StoreError> {
    use super::schema::deleted_users;
    Ok(deleted_users::table
        .filter(deleted_users::deleted_at.ge(since))
        .select((deleted_users::user_id, deleted_users::deleted_at))
        .order(deleted_users::user_id.asc())
        .load(conn)?)
}

/// Forgets deletions older than `before` (unix seconds): no token of those users is alive.
pub fn prune_deleted_users(conn: &mut DbConnection, before: i64) -> Result<usize, StoreError> {
    use super::schema::deleted_users;
    Ok(
        diesel::delete(deleted_users::table.filter(deleted_users::deleted_at.lt(before)))
            .execute(conn)?,
    )
}

/// Users changed since `since` (a new security stamp, disabled, or anything else): id,
/// whether active, security stamp, when changed.
pub fn users_changed_since(
    conn: &mut DbConnection,
    since: chrono::NaiveDateTime,
) -> Result<Vec<(String, bool, String, chrono::NaiveDateTime)>, StoreError> {
    Ok(users::table
        .filter(users::updated_at.ge(since))
        .select((
            users::id,
            users::is_active,
            users::security_stamp,
            users::updated_at,
        ))
        .order(users::id.asc())
        .load(conn)?)
}
