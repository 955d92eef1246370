//! Prometheus metrics (CONTRACT "Operations"): with `metrics_bind` set, a second listener serves
//! `/metrics` in the Prometheus text format (`metrics-exporter-prometheus`). Series are labelled
//! by route pattern, method, status, grant, sign-in method and result — never by a raw path, a
//! user or a client. Without `metrics_bind` no recorder is installed and recording is a no-op.
//! The listener itself is started by `startup`; this module only records.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// The process's recorder (one per process, whatever the number of servers in it).
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Latency buckets (seconds): from a cached JWKS answer to a slow sign-in.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Signature buckets (seconds): an RSA-2048 signature takes 0.2 to 1 ms on a current core, an
/// RSA-4096 one several times that.
const SIGNING_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.002, 0.005, 0.01, 0.025,
];

/// Whether a recorder is installed (nothing is labelled, formatted or timed otherwise).
pub fn enabled() -> bool {
    matches!(HANDLE.get(), Some(Some(_)))
}

/// The process's Prometheus handle, installing the recorder on first use.
pub fn handle() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .ok()?
                .set_buckets_for_metric(
                    Matcher::Full("irongate_token_signing_seconds".into()),
                    SIGNING_BUCKETS,
                )
                .ok()?
                .install_recorder()
                .map_err(|e| tracing::error!(error = %e, "cannot install the metrics recorder"))
                .ok()
                .inspect(|handle| {
                    // Histograms keep raw samples until upkeep folds them: without it, memory
                    // grows between scrapes (or for ever, with no scraper).
                    let handle = handle.clone();
                    std::thread::Builder::new()
                        .name("irongate-metrics-upkeep".into())
                        .spawn(move || {
                            loop {
                                std::thread::sleep(Duration::from_secs(5));
                                handle.run_upkeep();
                            }
                        })
                        .ok();
                })
        })
        .clone()
}

/// One answered request: its route pattern (`unmatched` when no route matched), method and
/// status, and how long it took.
pub fn request(route: Option<&str>, method: &str, status: u16, elapsed: Duration) {
    if !enabled() {
        return;
    }
    let route = route.unwrap_or("unmatched").to_owned();
    // Methods outside the standard set are one label, whatever a client sends.
    let method = match method {
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
        _ => "other",
    }
    .to_owned();
    metrics::counter!(
        "irongate_http_requests_total",
        "route" => route.clone(),
        "method" => method.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(
        "irongate_http_request_duration_seconds",
        "route" => route,
        "method" => method,
        "status" => status.to_string()
    )
    .record(elapsed.as_secs_f64());
}

/// One RS256 signature and the time the private-key operation took (wall-clock: a signature
/// preempted by another thread of the process counts the wait too, so shares computed from it
/// can overstate signing's share, slightly: under load on one core, refresh's worker thread
/// was preempted in about 3 % of its signatures, client_credentials' almost never). Its sum
/// beside the process's CPU time is the share of the CPU that signing takes, measured in the
/// same seconds as the load (the physical limit of a token endpoint is one signature per token).
pub fn signature(elapsed: Duration) {
    metrics::histogram!("irongate_token_signing_seconds").record(elapsed.as_secs_f64());
}

/// Tokens issued at the token endpoint, by grant.
pub fn token_issued(grant: &'static str) {
    metrics::counter!("irongate_tokens_issued_total", "grant" => grant).increment(1);
}

/// A sign-in attempt: `method` is `password_grant` or `login_page`; `result` is `success`,
/// `failure` or `limited`.
pub fn sign_in(method: &'static str, result: &'static str) {
    metrics::counter!("irongate_sign_ins_total", "method" => method, "result" => result)
        .increment(1);
    if result == "limited" {
        rate_limited();
    }
}

/// A refused sign-in attempt: over a rate limit.
pub fn rate_limited() {
    metrics::counter!("irongate_rate_limit_refusals_total").increment(1);
}

/// A refresh token presented again after its rotation (its family is revoked).
pub fn refresh_reuse() {
    metrics::counter!("irongate_refresh_token_reuse_total").increment(1);
}
