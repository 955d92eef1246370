//! Authorization codes (stored as SHA-256 only), consumed atomically.

use super::schema::authorization_codes;
use super::{
    DbConnection, RefreshToken, RevokedJti, StoreError, insert_refresh_token, insert_revoked,
    is_revoked, revoke_family,
};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_codes)]
pub struct AuthorizationCode {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    /// Whether the authorization request named the redirect URI (then the token request must
    /// repeat it, RFC 6749 §4.1.3).
    pub redirect_uri_explicit: bool,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub auth_time: i64,
    pub session_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub family_id: Option<String>,
    pub access_jti: Option<String>,
    pub access_exp: Option<i64>,
    /// The organization chosen at the authorization endpoint, if any.
    pub org_id: Option<String>,
}

pub fn insert_authorization_code(
    conn: &mut DbConnection,
    code: &AuthorizationCode,
) -> Result<(), StoreError> {
    diesel::insert_into(authorization_codes::table)
        .values(code)
        .execute(conn)?;
    Ok(())
}

/// What presenting a code found.
#[derive(Debug)]
pub enum Redemption {
    /// The code was unused and is now spent: this caller alone may issue tokens for it.
    Claimed(AuthorizationCode),
    /// The code had been redeemed before: what that redemption issued is now revoked.
    Replayed(AuthorizationCode, Vec<RevokedJti>),
    Unknown,
}

/// What a redemption will issue, fixed before the code is claimed and stored with the claim,
/// so that a replay at any moment afterwards finds it and revokes it (SEC-19).
#[derive(Debug, Clone)]
pub struct Planned {
    pub family_id: Option<String>,
    pub access_jti: String,
    pub access_exp: i64,
}

/// Takes the code row's lock for the rest of the transaction: a redemption and a replay of the
/// same code never interleave (SQLite serialises writers anyway).
fn lock_code(conn: &mut DbConnection, code_hash: &str) -> Result<(), StoreError> {
    diesel::update(authorization_codes::table.find(code_hash))
        .set(authorization_codes::used_at.eq(authorization_codes::used_at))
        .execute(conn)?;
    Ok(())
}

/// Spends a code atomically, recording what the redemption will issue: of several concurrent
/// redemptions exactly one claims it. A replay revokes the refresh-token family and the access
/// token the first redemption issues, even while that redemption is still under way.
pub fn redeem_authorization_code(
    conn: &mut DbConnection,
    code_hash: &str,
    now: i64,
    planned: &Planned,
) -> Result<Redemption, StoreError> {
    conn.transaction(|conn| {
        // The claim locks the row when it matches; a replay takes the lock explicitly below.
        let claimed = diesel::update(
            authorization_codes::table
                .find(code_hash)
                .filter(authorization_codes::used_at.is_null()),
        )
        .set((
            authorization_codes::used_at.eq(now),
            authorization_codes::family_id.eq(&planned.family_id),
            authorization_codes::access_jti.eq(&planned.access_jti),
            authorization_codes::access_exp.eq(planned.access_exp),
        ))
        .execute(conn)?;
        if claimed == 0 {
            // Wait for a redemption still storing what it issues, so it is seen below.
            lock_code(conn, code_hash)?;
        }
        let Some(code) = authorization_codes::table
            .find(code_hash)
            .select(AuthorizationCode::as_select())
            .get_result(conn)
            .optional()?
        else {
            return Ok(Redemption::Unknown);
        };
        if claimed == 1 {
            return Ok(Redemption::Claimed(code));
        }
        let mut revoked = match &code.family_id {
            Some(family) => revoke_family(conn, family, now)?,
            None => Vec::new(),
        };
        if let (Some(jti), Some(exp)) = (&code.access_jti, code.access_exp)
            && exp > now
        {
            insert_revoked(conn, jti, exp)?;
            revoked.push((jti.clone(), exp));
        }
        Ok(Redemption::Replayed(code, revoked))
    })
}

/// Whether a replay of the code has revoked what its redemption issues (`access_jti`), read
/// under the code row's lock (a redemption that starts no refresh family asks this before it
/// answers).
pub fn code_issuance_revoked(
    conn: &mut DbConnection,
    code_hash: &str,
    access_jti: &str,
) -> Result<bool, StoreError> {
    conn.transaction(|conn| {
        lock_code(conn, code_hash)?;
        is_revoked(conn, access_jti)
    })
}

/// Stores the first refresh token of the family a code's redemption starts, unless a replay
/// of the code has revoked what it issues meanwhile (then nothing is stored: false).
pub fn insert_code_family(
    conn: &mut DbConnection,
    code_hash: &str,
    token: &RefreshToken,
) -> Result<bool, StoreError> {
    conn.transaction(|conn| {
        lock_code(conn, code_hash)?;
        if is_revoked(conn, &token.access_jti)? {
            return Ok(false);
        }
        insert_refresh_token(conn, token)?;
        Ok(true)
    })
}

/// How long past its expiry a code row is kept, so a late replay is still recognised (and
/// revokes what the code issued) rather than looking unknown.
const REPLAY_MEMORY_SECS: i64 = 600;

/// Deletes codes past their expiry plus the replay memory.
pub fn delete_expired_codes(conn: &mut DbConnection, now: i64) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        authorization_codes::table
            .filter(authorization_codes::expires_at.le(now - REPLAY_MEMORY_SECS)),
    )
    .execute(conn)?)
}
