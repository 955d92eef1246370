//! RFC 6749 §4.3, for clients registered for it. Unknown user, wrong password and inactive user
//! are one answer in one time (no enumeration); attempts are rate limited per IP and username.

use super::{TokenEndpoint, TokenRequest};
use crate::auth::sign_in::SignInError;
use crate::domain::GrantType;
use crate::oauth::error::{ErrorCode, OAuthError, Reason};
use crate::oauth::issue::{FamilyStart, IdExtra, TokenResponse};
use crate::oauth::organization::{self, Choice};
use crate::store::Client;

impl TokenEndpoint {
    pub(super) async fn password(
        &self,
        client: &Client,
        req: &TokenRequest<'_>,
    ) -> Result<TokenResponse, OAuthError> {
        let form = req.form;
        let username = form.require("username")?.to_owned();
        let password = form.require("password")?.to_owned();
        let scopes = self.granted_scopes(client, form)?;
        let attempt = self
            .sign_in
            .sign_in(req.client_ip, &username, password, None)
            .await;
        crate::metrics::sign_in("password_grant", crate::auth::sign_in::outcome(&attempt));
        let user = attempt.map_err(refused)?;
        let org_id =
            match organization::choose(&self.store, client, &user.id, form.get("organization"))
                .await?
            {
                Choice::None => None,
                Choice::Chosen(org) => Some(org.id),
                Choice::NotMember => {
                    return Err(OAuthError::invalid_grant(
                        "the user is not a member of that organization",
                    ));
                }
                Choice::NoMembership => {
                    return Err(OAuthError::invalid_grant(
                        "this client requires an organization, and the user is a member of none",
                    ));
                }
                // No page to choose on: the request must say.
                Choice::Choose(_) => {
                    return Err(OAuthError::invalid_request(
                        "organization is required: the user is a member of several",
                    ));
                }
            };
        let now = chrono::Utc::now().timestamp();
        let authz = self
            .issuer
            .authorization(&user.id, org_id.clone(), &scopes)
            .await?;
        let issued =
            self.issuer
                .user_tokens(client, &user, &scopes, now, authz, IdExtra::default())?;
        let refresh_token = if client.grant_types.contains(&GrantType::RefreshToken) {
            let start = FamilyStart {
                org_id,
                family_id: None,
                code_hash: None,
                client,
                user: &user,
                scopes: &scopes,
                auth_time: now,
                session_id: None,
                access: &issued.claims,
            };
            Some(self.issuer.start_family(start).await?.0)
        } else {
            None
        };
        Ok(self.issuer.respond(issued, refresh_token))
    }
}

fn refused(e: SignInError) -> OAuthError {
    match e {
        SignInError::Limited(wait) => OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            "too many sign-in attempts; try again later",
        )
        .with_reason(Reason::TooManyAttempts(crate::ephemeral::retry_after_secs(
            wait,
        ))),
        SignInError::Failed => OAuthError::invalid_grant("invalid username or password"),
        SignInError::Store(e) => e.into(),
        SignInError::Internal(e) => {
            tracing::error!(error = %e, "password verification failed");
            OAuthError::server_error()
        }
    }
}
