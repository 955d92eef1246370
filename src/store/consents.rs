//! Remembered consent: the scopes each user approved for each client.

use super::schema::consents;
use super::{DbConnection, StoreError};
use diesel::prelude::*;

/// The scopes a user has approved for a client (space-delimited), if any.
pub fn find_consent(
    conn: &mut DbConnection,
    user_id: &str,
    client_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(consents::table
        .find((user_id, client_id))
        .select(consents::scope)
        .get_result(conn)
        .optional()?)
}

/// Stores the scopes a user approved for a client (already merged with earlier approvals).
pub fn save_consent(
    conn: &mut DbConnection,
    user_id: &str,
    client_id: &str,
    scope: &str,
    now: i64,
) -> Result<(), StoreError> {
    let updated = diesel::update(consents::table.find((user_id, client_id)))
        .set((consents::scope.eq(scope), consents::granted_at.eq(now)))
        .execute(conn)?;
    if updated == 0 {
        let inserted = diesel::insert_into(consents::table)
            .values((
                consents::user_id.eq(user_id),
                consents::client_id.eq(client_id),
                consents::scope.eq(scope),
                consents::granted_at.eq(now),
            ))
            .execute(conn);
        match inserted.map_err(StoreError::from) {
            Ok(_) => {}
            // Approved in another tab at the same moment: keep the later write.
            Err(StoreError::Conflict(_)) => {
                diesel::update(consents::table.find((user_id, client_id)))
                    .set((consents::scope.eq(scope), consents::granted_at.eq(now)))
                    .execute(conn)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
