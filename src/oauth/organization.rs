//! Which organization a user acts in (CONTRACT "Choosing the organization"): the one the request
//! names, where the user must be a member; without one, none — unless the client requires an
//! organization: then the user's only one, or a choice when they have several.

use crate::store::{self, Client, Organization, Store, StoreError};

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
    let user = user_id.to_owned();
    if let Some(requested) = requested {
        if requested.is_empty() || requested.len() > 200 {
            return Ok(Choice::NotMember);
        }
        let key = requested.to_owned();
        return store
            .run(move |c| {
                Ok(match store::find_organization(c, &key)? {
                    Some(org) if store::is_member(c, &org.id, &user)? => Choice::Chosen(org),
                    _ => Choice::NotMember,
                })
            })
            .await;
    }
    if !client.require_organization {
        return Ok(Choice::None);
    }
    let mut orgs = store
        .run(move |c| store::user_organizations(c, &user))
        .await?;
    Ok(match orgs.len() {
        0 => Choice::NoMembership,
        1 => Choice::Chosen(orgs.remove(0)),
        _ => Choice::Choose(orgs),
    })
}

/// Whether the user is still a member of `org_id` (a refresh re-checks it).
pub async fn still_member(store: &Store, org_id: &str, user_id: &str) -> Result<bool, StoreError> {
    let (org, user) = (org_id.to_owned(), user_id.to_owned());
    store.run(move |c| store::is_member(c, &org, &user)).await
}
