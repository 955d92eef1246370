//! Logging to standard error; `RUST_LOG` overrides the default level.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; `default` is the level when `RUST_LOG` is unset.
pub fn init(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
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
