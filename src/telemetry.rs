//! Logging to standard error; `RUST_LOG` overrides the default level.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; `default` is the level when `RUST_LOG` is unset.
pub fn init(default: &str, json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        // One JSON object per line, with the request's span (its id) on every event, and the
        // target, by which pipelines route audit events (`irongate::audit`).
        builder
            .with_target(true)
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init()
    };
}

/// The response header carrying a request's correlation id (SEC-61).
pub const REQUEST_ID: actix_web::http::header::HeaderName =
    actix_web::http::header::HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT_ID: String;
}

/// Runs `work` as the handling of the request `id`: `current_request_id` answers it inside.
pub async fn with_request_id<F: std::future::Future>(id: String, work: F) -> F::Output {
    CURRENT_ID.scope(id, work).await
}

/// The id of the request being handled (for error pages and log lines), if any.
pub fn current_request_id() -> Option<String> {
    CURRENT_ID.try_with(Clone::clone).ok()
}

/// The most bytes of one value from a request that a log line carries.
pub const MAX_LOGGED: usize = 1024;

/// `value` cut to `MAX_LOGGED` bytes (at a character boundary), so that no request can write
/// long log lines; a cut value ends with `…`.
pub fn clip(value: &str) -> std::borrow::Cow<'_, str> {
    if value.len() <= MAX_LOGGED {
        return value.into();
    }
    let mut end = MAX_LOGGED;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &value[..end]).into()
}

/// Lets a repeated log line through once per interval, counting the ones held back, so that a
/// flood of the same event (a database that is down, a burst of refused sign-ins) writes a
/// line every few seconds instead of one per request.
pub struct Throttle {
    every: std::time::Duration,
    last: std::sync::Mutex<Option<std::time::Instant>>,
    held_back: std::sync::atomic::AtomicU64,
}

impl Throttle {
    pub const fn new(every: std::time::Duration) -> Self {
        Self {
            every,
            last: std::sync::Mutex::new(None),
            held_back: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// `Some(how many were held back since the last one)` when this one is to be logged.
    pub fn admit(&self) -> Option<u64> {
        use std::sync::atomic::Ordering;
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|at| at.elapsed() < self.every) {
            self.held_back.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *last = Some(std::time::Instant::now());
        Some(self.held_back.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_admits_one_line_per_interval_and_counts_the_rest() {
        let throttle = Throttle::new(std::time::Duration::from_millis(50));
        assert_eq!(throttle.admit(), Some(0));
        assert_eq!(throttle.admit(), None);
        assert_eq!(throttle.admit(), None);
        std::thread::sleep(std::time::Duration::from_millis(60));
        assert_eq!(throttle.admit(), Some(2));
    }

    #[test]
    fn clipped_values_are_bounded_and_end_at_a_character() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(MAX_LOGGED);
        let clipped = clip(&long);
        assert!(clipped.len() <= MAX_LOGGED + '…'.len_utf8());
        assert!(clipped.ends_with('…'));
    }
}
