//! Authorization codes (stored as SHA-256 only), consumed atomically.

use super::schema::authorization_codes;
use super::{DbConnection, RevokedJti, StoreError, insert_revoked, revoke_family};
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

/// Spends a code atomically: of several concurrent redemptions exactly one claims it. A replay
/// revokes the refresh-token family and the access token the first redemption issued.
pub fn redeem_authorization_code(
    conn: &mut DbConnection,
    code_hash: &str,
    now: i64,
) -> Result<Redemption, StoreError> {
    conn.transaction(|conn| {
        let claimed = diesel::update(
            authorization_codes::table
                .find(code_hash)
                .filter(authorization_codes::used_at.is_null()),
        )
        .set(authorization_codes::used_at.eq(now))
        .execute(conn)?;
        let Some(code) = authorization_codes::table
            .find(code_hash)
            .select(AuthorizationCode::as_select())
            .first(conn)
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

/// Records what a redemption issued, for revocation on replay.
pub fn record_code_issuance(
    conn: &mut DbConnection,
    code_hash: &str,
    family_id: Option<&str>,
    access_jti: &str,
    access_exp: i64,
) -> Result<(), StoreError> {
    diesel::update(authorization_codes::table.find(code_hash))
        .set((
            authorization_codes::family_id.eq(family_id),
            authorization_codes::access_jti.eq(access_jti),
            authorization_codes::access_exp.eq(access_exp),
        ))
        .execute(conn)?;
    Ok(())
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
