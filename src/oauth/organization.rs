//! Which organization a user acts in (CONTRACT "Choosing the organization"): the one the request
//! names, where the user must be a member; without one, none — unless the client requires an
//! organization: then the user's only one, or a choice when they have several.

use crate::store::{self, Client, DbConnection, Organization, Store, StoreError};

/// The outcome of choosing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// No organization is active.
    None,
    Chosen(Organization),
    /// The client requires one and the user has several: they must choose.
    Choose(Vec<Organization>),
    /// The request named an organization the user is not a member of (or none that exists).
    NotMember,
    /// The client requires an organization and the user has none.
    NoMembership,
}

/// Chooses for `user_id` at `client`, with the `organization` parameter `requested` (an id or
/// a slug).
pub async fn choose(
    store: &Store,
    client: &Client,
    user_id: &str,
    requested: Option<&str>,
) -> Result<Choice, StoreError> {
    if requested.is_none() && !client.require_organization {
        return Ok(Choice::None);
    }
    let user = user_id.to_owned();
    let requested = requested.map(str::to_owned);
    let require = client.require_organization;
    store
        .run(move |c| choose_with(c, require, &user, requested.as_deref()))
        .await
}

/// `choose` on a connection the caller holds (inside its transaction); `require` is the
/// client's `require_organization`.
pub fn choose_with(
    conn: &mut DbConnection,
    require: bool,
    user_id: &str,
    requested: Option<&str>,
) -> Result<Choice, StoreError> {
    if let Some(requested) = requested {
        if requested.is_empty() || requested.len() > 200 {
            return Ok(Choice::NotMember);
        }
        return Ok(match store::find_organization(conn, requested)? {
            Some(org) if store::is_member(conn, &org.id, user_id)? => Choice::Chosen(org),
            _ => Choice::NotMember,
        });
    }
    if !require {
        return Ok(Choice::None);
    }
    let mut orgs = store::user_organizations(conn, user_id)?;
    Ok(match orgs.len() {
        0 => Choice::NoMembership,
        1 => Choice::Chosen(orgs.remove(0)),
        _ => Choice::Choose(orgs),
    })
}
