//! Identities at federated providers, linked to users by (issuer, subject).

use super::schema::federated_identities;
use super::{DbConnection, StoreError, unix_now};
use diesel::prelude::*;

/// Links the identity (`issuer`, `subject`) to a user; `Conflict` when it is linked already.
pub fn link_identity(
    conn: &mut DbConnection,
    issuer: &str,
    subject: &str,
    user_id: &str,
) -> Result<(), StoreError> {
    diesel::insert_into(federated_identities::table)
        .values((
            federated_identities::issuer.eq(issuer),
            federated_identities::subject.eq(subject),
            federated_identities::user_id.eq(user_id),
            federated_identities::created_at.eq(unix_now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The user an identity is linked to.
pub fn find_identity(
    conn: &mut DbConnection,
    issuer: &str,
    subject: &str,
) -> Result<Option<String>, StoreError> {
    Ok(federated_identities::table
        .find((issuer, subject))
        .select(federated_identities::user_id)
        .get_result(conn)
        .optional()?)
}

/// Removes the user's identities at `issuer`; how many there were.
pub fn unlink_identity(
    conn: &mut DbConnection,
    user_id: &str,
    issuer: &str,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        federated_identities::table
            .filter(federated_identities::user_id.eq(user_id))
            .filter(federated_identities::issuer.eq(issuer)),
    )
    .execute(conn)?)
}

/// Whether the user has an identity at `issuer` already.
pub fn has_identity_at(
    conn: &mut DbConnection,
    user_id: &str,
    issuer: &str,
) -> Result<bool, StoreError> {
    let n: i64 = federated_identities::table
        .filter(federated_identities::user_id.eq(user_id))
        .filter(federated_identities::issuer.eq(issuer))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// A user made by a sign-in at a provider (no password), linked to their identity there, in
/// one transaction. `Conflict` when the email or the identity was taken meanwhile.
pub fn insert_federated_user(
    conn: &mut DbConnection,
    user: &super::NewUser,
    issuer: &str,
    subject: &str,
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        super::insert_user(conn, user, &[])?;
        link_identity(conn, issuer, subject, &user.id).map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("an identity"),
            other => other,
        })
    })
}
