//! The composition root: builds every service once and hands each the narrow parts it uses.
//! Nothing below the routes imports this module.

use crate::admin::Admin;
use crate::auth::access::AccessVerifier;
use crate::auth::account::PasswordChange;
use crate::auth::api_keys::ApiKeyVerifier;
use crate::auth::device::DeviceCookies;
use crate::auth::end_all::EndAll;
use crate::auth::password::PasswordHasher;
use crate::auth::principal::Authenticator;
use crate::auth::rate_limit::{Limiter, LoginLimits};
use crate::auth::revocations::Revocations;
use crate::auth::sign_in::SignIn;
use crate::browser::federation::FederationCookies;
use crate::browser::reveal::OnceReveal;
use crate::browser::session::Sessions;
use crate::config::Settings;
use crate::ephemeral::Ephemeral;
use crate::federation::Federation;
use crate::keys::KeyStore;
use crate::oauth::client_auth::Clients;
use crate::oauth::discovery::Metadata;
use crate::oauth::grants::TokenEndpoint;
use crate::oauth::interaction::Interaction;
use crate::oauth::introspection::Introspection;
use crate::oauth::issue::Issuer;
use crate::oauth::revocation::Revocation;
use crate::store::Store;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;

/// What the routes work with; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub keys: Arc<KeyStore>,
    pub metadata: Metadata,
    pub clients: Clients,
    pub tokens: TokenEndpoint,
    pub revocation: Revocation,
    pub introspection: Introspection,
    pub revocation_feed: crate::oauth::revocation_feed::RevocationFeed,
    pub interaction: Interaction,
    pub sessions: Sessions,
    /// Secrets shown once across a redirect (a new API key on the account page).
    pub reveal: OnceReveal,
    pub sign_in: SignIn,
    pub password_change: PasswordChange,
    pub principals: Authenticator,
    pub end_all: EndAll,
    pub admin: Admin,
    /// "Sign in with Google", when `google.*` is configured.
    pub federation: Option<Arc<Federation>>,
    /// The cookies a browser carries through a sign-in at the provider.
    pub federation_cookies: FederationCookies,
    revocations: Revocations,
    pub(crate) ephemeral: Ephemeral,
    /// Set once the process is shutting down: readiness answers 503.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

impl AppState {
    /// Connects the database (running migrations) and opens the keys directory (blocking work,
    /// done on the blocking pool), then builds the services.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let settings = Arc::new(settings);
        let ephemeral = Ephemeral::new(
            settings.redis.url.as_deref(),
            &settings.redis.prefix,
            settings.login.limit_table_size,
        )
        .map_err(|e| anyhow::anyhow!("configuration key `redis_url`: {e}"))?;
        let s = settings.clone();
        let (store, keys, passwords) = tokio::task::spawn_blocking(move || {
            let store = Store::connect(&s)
                .map_err(|e| anyhow::anyhow!("configuration key `database_url`: {e}"))?;
            let applied = store
                .run_migrations()
                .context("running database migrations")?;
            if applied > 0 {
                tracing::info!(applied, "database migrations applied");
            }
            let keys = Arc::new(KeyStore::open(&s.keys.dir, s.max_signed_token_lifetime())?);
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            anyhow::Ok((store, keys, PasswordHasher::new(cores)?))
        })
        .await??;
        let state = Self::assemble(settings, store, keys, passwords, ephemeral)?;
        // The in-process blocklist starts from the database; a shared one fills itself on the
        // first lookup that finds it empty.
        if !state.ephemeral.is_shared() {
            state
                .revocations
                .warm_up()
                .await
                .context("loading revoked tokens")?;
        }
        Ok(state)
    }

    fn assemble(
        settings: Arc<Settings>,
        store: Store,
        keys: Arc<KeyStore>,
        passwords: PasswordHasher,
        ephemeral: Ephemeral,
    ) -> anyhow::Result<Self> {
        let revocations = Revocations::new(store.clone(), ephemeral.clone());
        let clients = Clients::new(store.clone());
        let limits = LoginLimits {
            per_ip: settings.login.limit_per_ip,
            per_user: settings.login.limit_per_user,
            per_user_global: settings.login.limit_per_user_global,
            window: Duration::from_secs(settings.login.limit_window),
        };
        let limiter = Limiter::new(ephemeral.clone(), limits);
        let sign_in = SignIn::new(
            store.clone(),
            passwords.clone(),
            limiter.clone(),
            DeviceCookies::new(keys.cookie_secret()),
        );
        let access = AccessVerifier::new(
            keys.clone(),
            &settings,
            revocations.clone(),
            ephemeral.clone(),
            store.clone(),
        );
        let issuer = Issuer::new(
            keys.clone(),
            settings.clone(),
            store.clone(),
            revocations.clone(),
        );
        let end_all = EndAll::new(store.clone(), ephemeral.clone());
        let issuer_roles = issuer.role_cache();
        let api_keys = ApiKeyVerifier::new(store.clone(), issuer.role_cache());
        let federation = match &settings.google {
            Some(google) => Some(Arc::new(
                Federation::new(
                    google,
                    settings.endpoint(crate::oauth::discovery::paths::LOGIN_GOOGLE_CALLBACK),
                    crate::federation::Parts {
                        store: store.clone(),
                        end_all: end_all.clone(),
                        limiter,
                        ephemeral: ephemeral.clone(),
                    },
                )
                .context("configuration keys `google.*`")?,
            )),
            None => None,
        };
        Ok(Self {
            revocation_feed: crate::oauth::revocation_feed::RevocationFeed::new(
                store.clone(),
                settings.tokens.access_ttl,
            ),
            draining: Arc::default(),
            federation,
            federation_cookies: FederationCookies::new(
                keys.cookie_secret(),
                settings.issuer_is_https(),
            ),
            metadata: Metadata::build(&settings),
            tokens: TokenEndpoint::new(
                settings.clone(),
                store.clone(),
                clients.clone(),
                issuer.clone(),
                sign_in.clone(),
                api_keys.clone(),
            ),
            revocation: Revocation::new(access.clone(), issuer.clone()),
            introspection: Introspection::new(access.clone(), issuer, api_keys.clone()),
            interaction: Interaction::new(
                settings.clone(),
                keys.clone(),
                store.clone(),
                clients.clone(),
            ),
            sessions: Sessions::new(store.clone(), settings.clone()),
            reveal: OnceReveal::new(keys.cookie_secret()),
            principals: Authenticator::new(access, api_keys),
            admin: Admin::new(
                settings.clone(),
                store.clone(),
                end_all.clone(),
                issuer_roles,
            ),
            password_change: PasswordChange::new(
                sign_in.clone(),
                passwords.clone(),
                end_all.clone(),
            ),
            end_all,
            sign_in,
            clients,
            revocations,
            ephemeral,
            settings,
            store,
            keys,
        })
    }
}
