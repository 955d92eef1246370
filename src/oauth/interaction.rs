//! What a valid authorization request needs next (OpenID Connect Core §3.1.2.3–§3.1.2.5): a
//! sign-in, a consent, or nothing more — then the code. Free of HTTP: the routes turn a `Step`
//! into a page or a redirect.

use super::authorize::{self, AuthorizationRequest, AuthzError, Params, Refusal, Response};
use super::client_auth::Clients;
use super::organization::{self, Choice};
use super::reuse::{Repeated, ReuseWatch};
use super::tokens::{HintClaims, verify_id_token_hint};
use crate::auth::secrets;
use crate::config::Settings;
use crate::domain::Scopes;
use crate::keys::KeyStore;
use crate::store::{self, AuthorizationCode, Organization, Store, StoreError};
use std::sync::Arc;

/// Lifetime of an authorization code (RFC 9700 §4.2: short; SEC-23).
const CODE_TTL: i64 = 60;

/// The browser's signed-in user, as the session knows them.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn<'a> {
    pub user_id: &'a str,
    pub auth_time: i64,
    /// The session's public id (`sid` in ID tokens).
    pub sid: &'a str,
}

/// What to do with a valid request.
#[derive(Debug)]
pub enum Step {
    /// Answer the client now (an error such as `login_required`).
    Respond(Response),
    /// Show the login page.
    SignIn,
    /// The client requires an organization and the user has several: show the chooser.
    ChooseOrganization(Vec<Organization>),
    /// Show the consent page (naming the organization the approval is for, if any).
    Consent(Option<Organization>),
    /// Everything is in place: issue the code.
    Issue,
}

/// The authorization endpoint's service: the request, the steps, the code.
#[derive(Clone)]
pub struct Interaction {
    settings: Arc<Settings>,
    keys: Arc<KeyStore>,
    store: Store,
    clients: Clients,
    /// Notices constant PKCE challenges and nonces (SEC-46).
    reuse: Arc<ReuseWatch>,
}

/// Why an authorization request cannot go on.
pub enum Loaded {
    Refused(Refusal),
    Store(StoreError),
}

impl Interaction {
    pub fn new(
        settings: Arc<Settings>,
        keys: Arc<KeyStore>,
        store: Store,
        clients: Clients,
    ) -> Self {
        Self {
            settings,
            keys,
            store,
            clients,
            reuse: Arc::default(),
        }
    }

    /// Finds the client and validates the request.
    pub async fn load_request(&self, params: Params) -> Result<AuthorizationRequest, Loaded> {
        let client = match params.single("client_id") {
            Ok(Some(id)) if id.len() <= 256 => {
                self.clients.find(id).await.map_err(Loaded::Store)?
            }
            _ => None,
        };
        authorize::validate(&self.settings, client, params).map_err(Loaded::Refused)
    }

    /// Verifies an `id_token_hint` irongate issued (see `tokens::verify_id_token_hint`).
    pub fn verify_hint(&self, token: &str) -> Option<HintClaims> {
        verify_id_token_hint(&self.keys, &self.settings, token)
    }

    /// Decides the next step: sign in when nobody is, when `prompt=login`, when the sign-in is
    /// older than `max_age`, or when `id_token_hint` names someone else; then consent unless
    /// remembered (or a `--skip-consent` client), or always with `prompt=consent`.
    /// `prompt=none` never shows a page: it answers `login_required` / `consent_required`.
    pub async fn decide(
        &self,
        request: &AuthorizationRequest,
        signed_in: Option<SignedIn<'_>>,
    ) -> Result<Step, StoreError> {
        let fail =
            |e: AuthzError| Step::Respond(Response::error(&request.target, &self.settings, &e));
        let hint_sub = match &request.id_token_hint {
            None => None,
            Some(token) => match self.verify_hint(token) {
                Some(claims) if claims.aud == request.client.id => Some(claims.sub),
                _ => {
                    return Ok(fail(AuthzError::invalid_request(
                        "id_token_hint is not a valid ID token",
                    )));
                }
            },
        };
        let now = chrono::Utc::now().timestamp();
        let needs_sign_in = match signed_in {
            None => true,
            Some(s) => {
                request.prompt.login
                    || too_old(request, s, now)
                    || hint_sub.as_deref().is_some_and(|sub| sub != s.user_id)
            }
        };
        let Some(signed_in) = signed_in.filter(|_| !needs_sign_in) else {
            return Ok(if request.prompt.none {
                fail(AuthzError::new("login_required", "the user must sign in"))
            } else {
                Step::SignIn
            });
        };
        // The organization, once the user is known (CONTRACT "Choosing the organization").
        let org = match organization::choose(
            &self.store,
            &request.client,
            signed_in.user_id,
            request.organization.as_deref(),
        )
        .await?
        {
            Choice::None => None,
            Choice::Chosen(org) => Some(org),
            Choice::Choose(orgs) => {
                return Ok(if request.prompt.none {
                    fail(AuthzError::new(
                        "interaction_required",
                        "the user must choose an organization",
                    ))
                } else {
                    Step::ChooseOrganization(orgs)
                });
            }
            refused => return Ok(fail(org_refused(&refused))),
        };
        if request.prompt.consent || !self.consented(request, signed_in.user_id).await? {
            return Ok(if request.prompt.none {
                fail(AuthzError::new(
                    "consent_required",
                    "the user must approve this request",
                ))
            } else {
                Step::Consent(org)
            });
        }
        Ok(Step::Issue)
    }

    async fn consented(
        &self,
        request: &AuthorizationRequest,
        user_id: &str,
    ) -> Result<bool, StoreError> {
        if request.client.skip_consent {
            return Ok(true);
        }
        let (user_id, client_id) = (user_id.to_owned(), request.client.id.clone());
        let granted = self
            .store
            .run(move |c| store::find_consent(c, &user_id, &client_id))
            .await?;
        Ok(granted.is_some_and(|g| request.scopes.is_subset(&Scopes::granted(&g))))
    }

    /// Whether the request's `id_token_hint` fails to name `user_id` (no hint: false).
    pub fn hint_names_someone_else(&self, request: &AuthorizationRequest, user_id: &str) -> bool {
        request.id_token_hint.as_ref().is_some_and(|hint| {
            self.verify_hint(hint)
                .is_none_or(|claims| claims.sub != user_id)
        })
    }

    /// Whether a consent decision must wait for a new sign-in: `max_age` passed while the page was
    /// open, or the hint names someone else.
    pub fn sign_in_again(&self, request: &AuthorizationRequest, signed_in: SignedIn<'_>) -> bool {
        let now = chrono::Utc::now().timestamp();
        too_old(request, signed_in, now) || self.hint_names_someone_else(request, signed_in.user_id)
    }

    /// Remembers the approval, added to what the user approved for this client before.
    pub async fn remember_consent(
        &self,
        request: &AuthorizationRequest,
        user_id: &str,
    ) -> Result<(), StoreError> {
        let user_id = user_id.to_owned();
        let client_id = request.client.id.clone();
        let requested = request.scopes.clone();
        self.store
            .run(move |c| {
                let previous = store::find_consent(c, &user_id, &client_id)?;
                let mut names: Vec<String> = previous
                    .as_deref()
                    .map(Scopes::granted)
                    .unwrap_or_default()
                    .iter()
                    .map(str::to_owned)
                    .collect();
                names.extend(requested.iter().map(str::to_owned));
                let merged = Scopes::granted(&names.join(" ")).to_space_delimited();
                let now = chrono::Utc::now().timestamp();
                store::save_consent(c, &user_id, &client_id, &merged, now)
            })
            .await
    }

    /// A new authorization code for the signed-in user, and the response carrying it.
    pub async fn issue_code(
        &self,
        request: &AuthorizationRequest,
        signed_in: SignedIn<'_>,
    ) -> Result<Response, StoreError> {
        let client_id = request.client.id.as_str();
        if let Some(challenge) = &request.code_challenge {
            self.reuse
                .observe(client_id, Repeated::CodeChallenge, challenge);
        }
        if let Some(nonce) = &request.nonce {
            self.reuse.observe(client_id, Repeated::Nonce, nonce);
        }
        // Chosen again (a membership may have ended since the pages were shown); the code is
        // bound to it.
        let org_id = match organization::choose(
            &self.store,
            &request.client,
            signed_in.user_id,
            request.organization.as_deref(),
        )
        .await?
        {
            Choice::None => None,
            Choice::Chosen(org) => Some(org.id),
            refused => {
                return Ok(Response::error(
                    &request.target,
                    &self.settings,
                    &org_refused(&refused),
                ));
            }
        };
        let now = chrono::Utc::now().timestamp();
        let code = secrets::random_token(32);
        let row = AuthorizationCode {
            code_hash: secrets::hash_secret(&code),
            client_id: request.client.id.clone(),
            user_id: signed_in.user_id.to_owned(),
            redirect_uri: request.target.redirect_uri.clone(),
            redirect_uri_explicit: request.redirect_uri_explicit,
            scope: request.scopes.to_space_delimited(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            auth_time: signed_in.auth_time,
            session_id: Some(signed_in.sid.to_owned()),
            created_at: now,
            expires_at: now + CODE_TTL,
            used_at: None,
            family_id: None,
            access_jti: None,
            access_exp: None,
            org_id,
        };
        self.store
            .run(move |c| store::insert_authorization_code(c, &row))
            .await?;
        Ok(Response::code(&request.target, &self.settings, code))
    }
}

/// The authorization error for an organization that cannot be used (`access_denied`).
fn org_refused(choice: &Choice) -> AuthzError {
    AuthzError::new(
        "access_denied",
        match choice {
            Choice::NoMembership => {
                "this application requires an organization, and the user is a member of none"
            }
            Choice::Choose(_) => "the user must choose an organization",
            _ => "the user is not a member of that organization",
        },
    )
}

/// Whether the sign-in is older than the request's `max_age` allows. `max_age=0` always
/// asks: it is equivalent to `prompt=login` (OpenID Connect Core §3.1.2.1, errata set 2),
/// even within the second of the sign-in.
fn too_old(request: &AuthorizationRequest, signed_in: SignedIn<'_>, now: i64) -> bool {
    request
        .max_age
        .is_some_and(|max| max == 0 || now - signed_in.auth_time > max)
}
