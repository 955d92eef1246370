//! Judges the merged values and builds `Settings`: each key's type, default and checks. Keys are
//! judged in a fixed order, which decides the one named when several are wrong.

use super::{
    ConfigError, CorsSettings, DatabaseKind, DatabaseSettings, Flag, Given, GoogleSettings,
    KeySettings, List, LoginSettings, Raw, RawGoogle, RedisSettings, ServerSettings,
    SessionSettings, Settings, Text, TokenSettings, Whole, err,
};
use crate::domain::ScopeCatalogue;
use ipnet::IpNet;
use std::path::PathBuf;
use toml::Value;
use url::Url;

const DEFAULT_ISSUER: &str = "http://127.0.0.1:8080";
const DEFAULT_SCOPES: &str = "users:read users:write posts:read posts:write admin";
const DEFAULT_GOOGLE_ISSUER: &str = "https://accounts.google.com";

pub(super) fn settings(raw: Raw) -> Result<Settings, ConfigError> {
    let Raw {
        issuer,
        bind,
        log_format,
        metrics_bind,
        database_url,
        redis_url,
        redis_prefix,
        keys_dir,
        key_poll_interval,
        access_token_ttl,
        refresh_token_ttl,
        api_key_max_ttl,
        audience,
        scopes,
        login_limit_per_ip,
        login_limit_per_user,
        login_limit_per_user_global,
        login_limit_window,
        login_limit_table_size,
        trusted_proxies,
        cors_origins,
        cors_allow_credentials,
        session_idle_timeout,
        session_lifetime,
        google,
    } = raw;
    let issuer =
        validate_issuer(&text("issuer", issuer)?.unwrap_or_else(|| DEFAULT_ISSUER.into()))?;
    let database_url =
        text("database_url", database_url)?.unwrap_or_else(|| "sqlite://irongate.db".into());
    let database_kind = database_kind(&database_url)?;
    let redis_url = text("redis_url", redis_url)?.filter(|s| !s.is_empty());
    if let Some(url) = &redis_url {
        validate_redis_url(url)?;
    }
    let cors_allow_credentials =
        flag("cors_allow_credentials", cors_allow_credentials)?.unwrap_or(false);
    let cors_origins =
        validate_origins(list("cors_origins", cors_origins)?, cors_allow_credentials)?;
    let scopes = list("scopes", scopes)?.unwrap_or_else(|| split_list(DEFAULT_SCOPES));
    let audience =
        non_empty("audience", text("audience", audience)?)?.unwrap_or_else(|| issuer.clone());
    let log_json = match text("log_format", log_format)?.as_deref() {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => {
            return Err(err(
                "log_format",
                format!("must be text or json, got {other:?}"),
            ));
        }
    };
    let metrics_bind = text("metrics_bind", metrics_bind)?
        .filter(|b| !b.is_empty())
        .map(|b| validate_bind_of("metrics_bind", b))
        .transpose()?;
    let bind = validate_bind(text("bind", bind)?.unwrap_or_else(|| "127.0.0.1:8080".into()))?;
    let redis_prefix = text("redis_prefix", redis_prefix)?.unwrap_or_else(|| "irongate:".into());
    let keys_dir = PathBuf::from(
        non_empty("keys_dir", text("keys_dir", keys_dir)?)?.unwrap_or_else(|| "keys".into()),
    );
    let key_poll_interval = ranged("key_poll_interval", key_poll_interval, 10, 1, 30)?;
    let access_token_ttl = ranged("access_token_ttl", access_token_ttl, 900, 1, 86_400)?;
    let refresh_token_ttl = ranged(
        "refresh_token_ttl",
        refresh_token_ttl,
        604_800,
        1,
        31_536_000,
    )?;
    let api_key_max_ttl = ranged(
        "api_key_max_ttl",
        api_key_max_ttl,
        31_536_000,
        60,
        315_360_000,
    )?;
    let scopes = ScopeCatalogue::new(scopes).map_err(|e| err("scopes", e))?;
    let login_limit_per_ip =
        ranged("login_limit_per_ip", login_limit_per_ip, 20, 0, 1_000_000)? as u32;
    let login_limit_per_user = ranged(
        "login_limit_per_user",
        login_limit_per_user,
        5,
        0,
        1_000_000,
    )? as u32;
    let login_limit_per_user_global = ranged(
        "login_limit_per_user_global",
        login_limit_per_user_global,
        100,
        0,
        1_000_000,
    )? as u32;
    let login_limit_window = ranged("login_limit_window", login_limit_window, 900, 1, 86_400)?;
    let login_limit_table_size = ranged(
        "login_limit_table_size",
        login_limit_table_size,
        100_000,
        100,
        10_000_000,
    )? as usize;
    let trusted_proxies =
        parse_proxies(list("trusted_proxies", trusted_proxies)?.unwrap_or_default())?;
    let session_idle_timeout = ranged(
        "session_idle_timeout",
        session_idle_timeout,
        1800,
        1,
        31_536_000,
    )?;
    let session_lifetime = ranged("session_lifetime", session_lifetime, 43_200, 1, 31_536_000)?;
    let google = google_settings(google)?;
    Ok(Settings {
        server: ServerSettings {
            issuer,
            bind,
            log_json,
            metrics_bind,
        },
        database: DatabaseSettings {
            url: database_url,
            kind: database_kind,
        },
        redis: RedisSettings {
            url: redis_url,
            prefix: redis_prefix,
        },
        keys: KeySettings {
            dir: keys_dir,
            poll_interval: key_poll_interval,
        },
        tokens: TokenSettings {
            access_ttl: access_token_ttl,
            refresh_ttl: refresh_token_ttl,
            api_key_max_ttl,
            audience,
            scopes,
        },
        login: LoginSettings {
            limit_per_ip: login_limit_per_ip,
            limit_per_user: login_limit_per_user,
            limit_per_user_global: login_limit_per_user_global,
            limit_window: login_limit_window,
            limit_table_size: login_limit_table_size,
            trusted_proxies,
        },
        sessions: SessionSettings {
            idle_timeout: session_idle_timeout,
            lifetime: session_lifetime,
        },
        cors: CorsSettings {
            origins: cors_origins,
            allow_credentials: cors_allow_credentials,
        },
        google,
    })
}

fn text(key: &str, given: Option<Given<Text>>) -> Result<Option<String>, ConfigError> {
    match given.map(Given::into_value) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(err(
            key,
            format!("expected a string, got {}", other.type_str()),
        )),
    }
}

fn flag(key: &str, given: Option<Given<Flag>>) -> Result<Option<bool>, ConfigError> {
    match given.map(Given::into_value) {
        None => Ok(None),
        Some(Value::Boolean(b)) => Ok(Some(b)),
        Some(other) => Err(err(
            key,
            format!("expected true or false, got {}", other.type_str()),
        )),
    }
}

fn list(key: &str, given: Option<Given<List>>) -> Result<Option<Vec<String>>, ConfigError> {
    match given.map(Given::into_value) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(split_list(&s))),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|i| match i {
                Value::String(s) => Ok(s),
                other => Err(err(
                    key,
                    format!("expected a list of strings, found {}", other.type_str()),
                )),
            })
            .collect::<Result<_, _>>()
            .map(Some),
        Some(other) => Err(err(
            key,
            format!("expected a list of strings, got {}", other.type_str()),
        )),
    }
}

fn ranged(
    key: &str,
    given: Option<Given<Whole>>,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let value = match given.map(Given::into_value) {
        None => return Ok(default),
        Some(Value::Integer(i)) => i,
        Some(other) => {
            return Err(err(
                key,
                format!("expected a whole number, got {}", other.type_str()),
            ));
        }
    };
    u64::try_from(value)
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| err(key, format!("must be between {min} and {max}, got {value}")))
}

fn split_list(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn non_empty(key: &str, value: Option<String>) -> Result<Option<String>, ConfigError> {
    match value {
        Some(v) if v.trim().is_empty() => Err(err(key, "must not be empty")),
        other => Ok(other),
    }
}

fn validate_issuer(raw: &str) -> Result<String, ConfigError> {
    let bad = || {
        err(
            "issuer",
            format!(
                "must be an absolute http(s) URL without query or fragment, such as https://id.example.com, got {raw:?}"
            ),
        )
    };
    let url = Url::parse(raw).map_err(|_| bad())?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && !raw.contains(['?', '#']);
    if !ok {
        return Err(bad());
    }
    // Relying parties compare `iss` exactly: only the one spelling the URL parser writes
    // (lowercase scheme and host, no default port, a normalized path) is accepted, with or
    // without the slash of an empty path.
    let canonical = url.as_str();
    let bare = if url.path() == "/" {
        canonical.trim_end_matches('/')
    } else {
        canonical
    };
    if raw != canonical && raw != bare {
        return Err(err(
            "issuer",
            format!(
                "must be written in canonical form (lowercase scheme and host, no default port): use {bare:?}, not {raw:?}"
            ),
        ));
    }
    Ok(raw.to_owned())
}

fn validate_bind(raw: String) -> Result<String, ConfigError> {
    validate_bind_of("bind", raw)
}

fn validate_bind_of(key: &str, raw: String) -> Result<String, ConfigError> {
    let port_ok = raw
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if port_ok {
        Ok(raw)
    } else {
        Err(err(
            key,
            format!("must be HOST:PORT such as 127.0.0.1:8080, got {raw:?}"),
        ))
    }
}

fn database_kind(url: &str) -> Result<DatabaseKind, ConfigError> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err(err(
                "database_url",
                "sqlite:// needs a file path, such as sqlite://irongate.db",
            ));
        }
        return Ok(DatabaseKind::Sqlite);
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(DatabaseKind::Postgres);
    }
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or(url);
    Err(err(
        "database_url",
        format!(
            "unknown database scheme {scheme:?}: use sqlite://PATH or postgres://USER@HOST/DATABASE"
        ),
    ))
}

fn validate_redis_url(raw: &str) -> Result<(), ConfigError> {
    match Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "redis" | "rediss" | "redis+unix" | "unix") => Ok(()),
        _ => Err(err(
            "redis_url",
            format!("must be redis://HOST[:PORT][/DB] or rediss://…, got {raw:?}"),
        )),
    }
}

fn validate_origins(
    origins: Option<Vec<String>>,
    credentials: bool,
) -> Result<Vec<String>, ConfigError> {
    let origins = origins.unwrap_or_default();
    for origin in &origins {
        if origin == "*" {
            if credentials {
                return Err(err(
                    "cors_origins",
                    "\"*\" cannot be combined with cors_allow_credentials = true (the CORS standard forbids it); list exact origins instead",
                ));
            }
            continue;
        }
        let exact = Url::parse(origin)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(|u| u.origin().ascii_serialization());
        if exact.as_deref() != Some(origin.as_str()) {
            return Err(err(
                "cors_origins",
                format!(
                    "{origin:?} is not an origin: write scheme://host[:port] in lowercase, without path, trailing slash or default port"
                ),
            ));
        }
    }
    Ok(origins)
}

fn parse_proxies(raw: Vec<String>) -> Result<Vec<IpNet>, ConfigError> {
    raw.iter()
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    err(
                        "trusted_proxies",
                        format!("{s:?} is not a CIDR such as 10.0.0.0/8 or an IP address"),
                    )
                })
        })
        .collect()
}

fn google_settings(google: RawGoogle) -> Result<Option<GoogleSettings>, ConfigError> {
    let RawGoogle {
        client_id,
        client_secret,
        issuer,
        allowed_domains,
    } = google;
    let allowed_domains: Vec<String> = list("google.allowed_domains", allowed_domains)?
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.trim().to_ascii_lowercase())
        .filter(|d| !d.is_empty())
        .collect();
    if let Some(bad) = allowed_domains
        .iter()
        .find(|d| d.contains(['@', '/', ' ', ':']) || !d.contains('.'))
    {
        return Err(err(
            "google.allowed_domains",
            format!("{bad:?} is not a domain such as example.com"),
        ));
    }
    let id = text("google.client_id", client_id)?.filter(|s| !s.is_empty());
    let secret = text("google.client_secret", client_secret)?.filter(|s| !s.is_empty());
    let issuer = text("google.issuer", issuer)?.unwrap_or_else(|| DEFAULT_GOOGLE_ISSUER.into());
    if Url::parse(&issuer)
        .map(|u| !matches!(u.scheme(), "http" | "https"))
        .unwrap_or(true)
    {
        return Err(err(
            "google.issuer",
            format!("must be an absolute http(s) URL, got {issuer:?}"),
        ));
    }
    match (id, secret) {
        (Some(client_id), Some(client_secret)) => Ok(Some(GoogleSettings {
            client_id,
            client_secret,
            issuer,
            allowed_domains,
        })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(err(
            "google.client_secret",
            "must be set together with google.client_id",
        )),
        (None, Some(_)) => Err(err(
            "google.client_id",
            "must be set together with google.client_secret",
        )),
    }
}
