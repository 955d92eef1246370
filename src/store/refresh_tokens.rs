//! Refresh tokens (stored as SHA-256 only) and revoked access-token ids.

use super::schema::{refresh_tokens, revoked_tokens, users};
use super::{DbConnection, StoreError};
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Text};

/// A refresh token as stored; `token_hash` is the SHA-256 of the token the client holds.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub token_hash: String,
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    /// Digest of the user's security stamp when the family began; a changed stamp ends it.
    pub stamp_digest: String,
    pub auth_time: i64,
    pub created_at: i64,
    /// Absolute end of the whole family (`refresh_token_ttl` after the first token).
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub access_jti: String,
    pub access_exp: i64,
    /// The browser session the family began in (`sid`); None for the password grant.
    pub session_id: Option<String>,
    /// The organization the family acts in, if any.
    pub org_id: Option<String>,
}

/// A revoked access token: its id and when it would have expired anyway.
pub type RevokedJti = (String, i64);

pub fn insert_refresh_token(conn: &mut DbConnection, t: &RefreshToken) -> Result<(), StoreError> {
    // Every column named, NULL bound for `None`: diesel cannot cache the prepared statement of
    // a struct insert with optional fields (its SQL depends on which are set), which cost a
    // parse of the statement on every rotation.
    on_backend!(conn, |c| diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(&t.token_hash),
            refresh_tokens::family_id.eq(&t.family_id),
            refresh_tokens::client_id.eq(&t.client_id),
            refresh_tokens::user_id.eq(&t.user_id),
            refresh_tokens::scope.eq(&t.scope),
            refresh_tokens::stamp_digest.eq(&t.stamp_digest),
            refresh_tokens::auth_time.eq(t.auth_time),
            refresh_tokens::created_at.eq(t.created_at),
            refresh_tokens::expires_at.eq(t.expires_at),
            refresh_tokens::used_at.eq(t.used_at),
            refresh_tokens::revoked_at.eq(t.revoked_at),
            refresh_tokens::access_jti.eq(&t.access_jti),
            refresh_tokens::access_exp.eq(t.access_exp),
            refresh_tokens::session_id.eq(&t.session_id),
            refresh_tokens::org_id.eq(&t.org_id),
        ))
        .execute(c))?;
    Ok(())
}

pub fn find_refresh_token(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<RefreshToken>, StoreError> {
    Ok(on_backend!(conn, |c| refresh_tokens::table
        .find(token_hash)
        .select(RefreshToken::as_select())
        .get_result(c)
        .optional())?)
}

/// What introspection needs of a refresh token and of its user.
#[derive(Debug, Queryable)]
pub struct RefreshTokenStanding {
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    pub stamp_digest: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The user's `is_active` and security stamp; None when the user is gone.
    pub user: Option<(bool, String)>,
}

/// A refresh token's standing and its user's, in one statement (a lookup by key and a join on
/// the user's key), without the columns introspection does not answer with.
pub fn refresh_token_standing(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<RefreshTokenStanding>, StoreError> {
    Ok(on_backend!(conn, |c| refresh_tokens::table
        .left_join(users::table)
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((
            refresh_tokens::client_id,
            refresh_tokens::user_id,
            refresh_tokens::scope,
            refresh_tokens::stamp_digest,
            refresh_tokens::created_at,
            refresh_tokens::expires_at,
            refresh_tokens::used_at,
            refresh_tokens::revoked_at,
            (users::is_active, users::security_stamp).nullable(),
        ))
        .get_result(c)
        .optional())?)
}

/// Marks `old_hash` used and stores its successor, inside the caller's transaction: of several
/// concurrent rotations of one token exactly one claims it (the `UPDATE`'s row lock on
/// PostgreSQL, the write lock on SQLite). Returns false when the token was already used or
/// revoked, and then stores nothing.
pub fn claim_and_replace(
    conn: &mut DbConnection,
    old_hash: &str,
    now: i64,
    successor: &RefreshToken,
) -> Result<bool, StoreError> {
    let claim = Claim {
        hash: old_hash,
        now,
    };
    let claimed = on_backend!(conn, |c| claim.execute(c))? == 1;
    if claimed {
        insert_refresh_token(conn, successor)?;
    }
    Ok(claimed)
}

/// The claim of a refresh token: `used_at` set where it was unused and unrevoked. Written out
/// as a statement of its own because diesel never caches the prepared form of its `UPDATE`
/// statements (a changeset may skip `None` fields), which re-parsed this one on every rotation.
struct Claim<'a> {
    hash: &'a str,
    now: i64,
}

impl QueryId for Claim<'_> {
    type QueryId = Claim<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB: Backend> QueryFragment<DB> for Claim<'_>
where
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE refresh_tokens SET used_at = ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(" WHERE token_hash = ");
        out.push_bind_param::<Text, _>(self.hash)?;
        out.push_sql(" AND used_at IS NULL AND revoked_at IS NULL");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for Claim<'_> {}

/// Revokes every token of a family and records the access tokens issued from it that have
/// not expired yet as revoked, inside the caller's transaction (`Store::write`, or the code
/// redemption's); returns those (the caller publishes them to the blocklist).
pub fn revoke_family(
    conn: &mut DbConnection,
    family_id: &str,
    now: i64,
) -> Result<Vec<RevokedJti>, StoreError> {
    // Repeat until a pass changes nothing: on PostgreSQL a rotation that commits while the
    // UPDATE waits for its row lock adds a successor this statement's snapshot cannot see; the
    // next statement's snapshot does.
    loop {
        let changed = diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::family_id.eq(family_id))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(now))
        .execute(conn)?;
        if changed == 0 {
            break;
        }
    }
    let jtis: Vec<RevokedJti> = refresh_tokens::table
        .filter(refresh_tokens::family_id.eq(family_id))
        .filter(refresh_tokens::access_exp.gt(now))
        .select((refresh_tokens::access_jti, refresh_tokens::access_exp))
        .load(conn)?;
    for (jti, exp) in &jtis {
        insert_revoked(conn, jti, *exp)?;
    }
    Ok(jtis)
}

/// Revokes every refresh token of a user ("log out everywhere", disable).
pub fn revoke_user_refresh_tokens(
    conn: &mut DbConnection,
    user_id: &str,
    now: i64,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?)
}

/// Records a revoked access token; recording one twice is not an error (and, inside a
/// transaction, does not abort it).
pub fn insert_revoked(
    conn: &mut DbConnection,
    jti: &str,
    expires_at: i64,
) -> Result<(), StoreError> {
    let row = (
        revoked_tokens::jti.eq(jti),
        revoked_tokens::expires_at.eq(expires_at),
    );
    // ON CONFLICT is per backend in diesel (the multi-backend connection has no upsert).
    match conn {
        DbConnection::Pg(c) => diesel::insert_into(revoked_tokens::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_into(revoked_tokens::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(())
}

pub fn is_revoked(conn: &mut DbConnection, jti: &str) -> Result<bool, StoreError> {
    let n: i64 = revoked_tokens::table
        .filter(revoked_tokens::jti.eq(jti))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Every revoked access token that has not expired: what the blocklist must hold.
pub fn unexpired_revoked(conn: &mut DbConnection, now: i64) -> Result<Vec<RevokedJti>, StoreError> {
    Ok(revoked_tokens::table
        .filter(revoked_tokens::expires_at.gt(now))
        .select((revoked_tokens::jti, revoked_tokens::expires_at))
        .load(conn)?)
}

/// Seconds a revoked token id is kept past its `exp` (the revocation feed's grace).
const REVOKED_KEPT_PAST_EXP: i64 = 300;

/// Deletes what can no longer matter: expired blocklist entries, refresh-token families past
/// their absolute lifetime, and old authorization codes. Returns the number of rows removed.
pub fn delete_expired(conn: &mut DbConnection, now: i64) -> Result<usize, StoreError> {
    // Kept a little past `exp`: the revocation feed lists them for verifiers' leeway.
    let revoked = diesel::delete(
        revoked_tokens::table.filter(revoked_tokens::expires_at.le(now - REVOKED_KEPT_PAST_EXP)),
    )
    .execute(conn)?;
    let refresh = diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.le(now)))
        .execute(conn)?;
    let codes = super::delete_expired_codes(conn, now)?;
    Ok(revoked + refresh + codes)
}
