//! Builds the application on a TCP listener (port 0 in tests) and runs it until stopped, with
//! its background jobs.

use crate::config::Settings;
use crate::keys::KeyStore;
use crate::state::AppState;
use crate::store::Store;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Condition, DefaultHeaders};
use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    /// Binds `settings.server.bind` and builds the server.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.server.bind).map_err(|e| {
            anyhow::anyhow!(
                "configuration key `bind`: cannot listen on {}: {e}",
                settings.server.bind
            )
        })?;
        Self::build_with_listener(settings, listener).await
    }

    /// Builds the server on an already bound listener.
    pub async fn build_with_listener(
        settings: Settings,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let state = AppState::build(settings).await?;
        spawn_key_poller(state.keys.clone(), state.settings.keys.poll_interval);
        spawn_housekeeping(
            state.store.clone(),
            state.settings.sessions.idle_timeout,
            state.settings.max_signed_token_lifetime(),
        );
        let data = web::Data::new(state.clone());
        let https = state.settings.issuer_is_https();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                // RFC 6797: browsers remember to use https only (SEC-13).
                .wrap(Condition::new(
                    https,
                    DefaultHeaders::new()
                        .add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000")),
                ))
                .wrap(actix_web::middleware::from_fn(crate::routes::frame::frame))
                .configure(|cfg| crate::routes::configure(cfg, &data.settings))
        })
        .shutdown_timeout(SHUTDOWN_TIMEOUT)
        .disable_signals()
        .listen(listener)?
        .run();
        spawn_signal_handler(server.handle(), state.draining.clone());
        if let Some(bind) = &state.settings.server.metrics_bind {
            let metrics = serve_metrics(bind, state.clone()).map_err(|e| {
                anyhow::anyhow!("configuration key `metrics_bind`: cannot listen on {bind}: {e}")
            })?;
            tokio::spawn(metrics);
        }
        Ok(Self {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM, then drains in-flight requests (up to 30 s).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Seconds in-flight requests get to finish once the server stops accepting connections.
const SHUTDOWN_TIMEOUT: u64 = 30;
/// After SIGTERM, how long `/readyz` answers 503 while requests are still served, so that a
/// load balancer stops sending new ones before the listener closes (REL-06).
const DRAIN_DELAY: Duration = Duration::from_secs(2);

/// SIGTERM: readiness answers 503 at once, the listener closes `DRAIN_DELAY` later, in-flight
/// requests finish (up to `SHUTDOWN_TIMEOUT`), and the process exits 0. SIGINT (Ctrl-C): the
/// same without the delay.
fn spawn_signal_handler(
    handle: actix_web::dev::ServerHandle,
    draining: Arc<std::sync::atomic::AtomicBool>,
) {
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::error!("cannot listen for SIGTERM and SIGINT; stop the process with SIGKILL");
            return;
        };
        let delay = tokio::select! {
            _ = term.recv() => DRAIN_DELAY,
            _ = int.recv() => Duration::ZERO,
        };
        draining.store(true, std::sync::atomic::Ordering::SeqCst);
        tracing::info!(
            delay_ms = delay.as_millis() as u64,
            "stopping: readiness answers 503; the listener closes after the delay, then in-flight requests finish"
        );
        tokio::time::sleep(delay).await;
        handle.stop(true).await;
        tracing::info!("stopped");
    });
}

/// Picks up keys rotated by another process (`irongate keys rotate`, another node).
fn spawn_key_poller(keys: Arc<KeyStore>, interval_secs: u64) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(interval_secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let keys = keys.clone();
            match tokio::task::spawn_blocking(move || keys.reload()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "reloading signing keys failed; keeping the current ones")
                }
                Err(e) => tracing::error!(error = %e, "key reload task failed"),
            }
        }
    });
}

/// Deletes expired revocations and refresh-token families every ten minutes.
fn spawn_housekeeping(store: Store, session_idle_timeout: u64, token_lifetime: u64) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = chrono::Utc::now().timestamp();
            match store
                .run(move |c| {
                    let idle_before = now - session_idle_timeout as i64;
                    // A deletion matters to the revocation feed while the user's tokens live.
                    let deleted_before = now - token_lifetime as i64 - 600;
                    Ok(crate::store::delete_expired(c, now)?
                        + crate::store::delete_expired_sessions(c, now, idle_before)?
                        + crate::store::prune_deleted_users(c, deleted_before)?)
                })
                .await
            {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "expired tokens deleted"),
                Err(e) => tracing::warn!(error = %e, "deleting expired tokens failed"),
            }
        }
    });
}

/// Starts the metrics listener on `bind` (the recorder is installed with it).
fn serve_metrics(bind: &str, state: AppState) -> std::io::Result<actix_web::dev::Server> {
    let Some(handle) = crate::metrics::handle() else {
        return Err(std::io::Error::other(
            "the metrics recorder could not be installed",
        ));
    };
    let data = web::Data::new((handle, state));
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/metrics", web::get().to(scrape))
    })
    .workers(1)
    .disable_signals()
    .bind(bind)?
    .run())
}

/// The scrape: the health gauges are read now, then everything is rendered.
async fn scrape(
    data: web::Data<(metrics_exporter_prometheus::PrometheusHandle, AppState)>,
) -> HttpResponse {
    let (handle, state) = data.get_ref();
    let database_up = state.store.ping().await;
    metrics::gauge!("irongate_database_up").set(if database_up { 1.0 } else { 0.0 });
    let pool = state.store.pool_state();
    metrics::gauge!("irongate_database_pool_connections").set(f64::from(pool.0));
    metrics::gauge!("irongate_database_pool_idle").set(f64::from(pool.1));
    if state.settings.redis.url.is_some() {
        let redis_up = state.ephemeral.ping().await;
        metrics::gauge!("irongate_redis_up").set(if redis_up { 1.0 } else { 0.0 });
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}
