//! `/admin/v1/keys`: the signing keys (active first) and their rotation.

use super::{Call, ok};
use crate::admin::AdminError;
use crate::admin::listing::Listing;
use crate::error::AppError;
use crate::keys::{KeyInfo, KeyStore};
use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

/// The new active key.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rotated {
    pub kid: String,
}

fn failed(e: impl std::fmt::Display) -> AppError {
    AdminError::Unexpected(anyhow::anyhow!("signing keys: {e}")).into()
}

#[utoipa::path(get, path = "/admin/v1/keys", tag = "keys",
    params(("limit" = Option<u32>, Query), ("after" = Option<String>, Query)),
    responses((status = 200, body = Listing<KeyInfo>, description = "newest (active) first"),
        super::openapi::Errors))]
pub async fn list(call: Call) -> Result<HttpResponse, AppError> {
    let page = call.page()?;
    let dir = call.state.settings.keys.dir.clone();
    let keys = tokio::task::spawn_blocking(move || KeyStore::list(&dir))
        .await
        .map_err(failed)?
        .map_err(failed)?;
    // Newest first; the cursor is the position's kid.
    let after = page.after.clone();
    let start = match after.as_str() {
        "" => 0,
        kid => keys
            .iter()
            .position(|k| k.kid == kid)
            .map_or(keys.len(), |i| i + 1),
    };
    let rest: Vec<KeyInfo> = keys.into_iter().skip(start).take(page.limit + 1).collect();
    ok(&page.page(rest, |k| &k.kid))
}

#[utoipa::path(post, path = "/admin/v1/keys/rotate", tag = "keys",
    responses((status = 200, body = Rotated,
        description = "older keys stay published until the tokens they signed expire"),
        super::openapi::Errors))]
pub async fn rotate(call: Call) -> Result<HttpResponse, AppError> {
    let (dir, lifetime) = (
        call.state.settings.keys.dir.clone(),
        call.state.settings.max_signed_token_lifetime(),
    );
    let keys = call.state.keys.clone();
    let kid = tokio::task::spawn_blocking(move || {
        let kid = KeyStore::rotate(&dir, lifetime)?;
        // This node signs with it at once; the others at their next poll.
        keys.reload()?;
        Ok::<_, crate::keys::KeyError>(kid)
    })
    .await
    .map_err(failed)?
    .map_err(failed)?;
    call.audit("keys.rotate", &kid);
    ok(&Rotated { kid })
}
