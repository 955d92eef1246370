//! Typed settings: built-in defaults, then a TOML file, then `IRONGATE_*` environment variables
//! (later wins). `Settings::load` validates everything and names the offending key on failure.

use crate::domain::ScopeCatalogue;
use ipnet::IpNet;
use std::path::{Path, PathBuf};
use toml::{Table, Value};
use url::Url;

const DEFAULT_ISSUER: &str = "http://127.0.0.1:8080";
const DEFAULT_SCOPES: &str = "users:read users:write posts:read posts:write admin";
const DEFAULT_GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// A configuration problem, one line, naming the key and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn err(key: &str, message: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("configuration key `{key}`: {message}"))
}

/// Which database backend `database_url` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct GoogleSettings {
    pub client_id: String,
    pub client_secret: String,
    pub issuer: String,
}

impl std::fmt::Debug for GoogleSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleSettings")
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("issuer", &self.issuer)
            .finish()
    }
}

/// The validated configuration every command runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub issuer: String,
    pub bind: String,
    pub database_url: String,
    pub database_kind: DatabaseKind,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    pub keys_dir: PathBuf,
    pub key_poll_interval: u64,
    pub access_token_ttl: u64,
    pub refresh_token_ttl: u64,
    pub audience: String,
    pub scopes: ScopeCatalogue,
    pub login_limit_per_ip: u32,
    pub login_limit_per_user: u32,
    pub login_limit_window: u64,
    pub trusted_proxies: Vec<IpNet>,
    pub cors_origins: Vec<String>,
    pub cors_allow_credentials: bool,
    /// Seconds a browser session may sit unused before it ends.
    pub session_idle_timeout: u64,
    /// Seconds a browser session lasts at most, used or not.
    pub session_lifetime: u64,
    pub google: Option<GoogleSettings>,
}

#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    Bool,
    List,
}

/// Every key: its TOML name, its environment variable, its type.
const KEYS: &[(&str, &str, Kind)] = &[
    ("issuer", "IRONGATE_ISSUER", Kind::Str),
    ("bind", "IRONGATE_BIND", Kind::Str),
    ("database_url", "IRONGATE_DATABASE_URL", Kind::Str),
    ("redis_url", "IRONGATE_REDIS_URL", Kind::Str),
    ("redis_prefix", "IRONGATE_REDIS_PREFIX", Kind::Str),
    ("keys_dir", "IRONGATE_KEYS_DIR", Kind::Str),
    ("key_poll_interval", "IRONGATE_KEY_POLL_INTERVAL", Kind::Int),
    ("access_token_ttl", "IRONGATE_ACCESS_TOKEN_TTL", Kind::Int),
    ("refresh_token_ttl", "IRONGATE_REFRESH_TOKEN_TTL", Kind::Int),
    ("audience", "IRONGATE_AUDIENCE", Kind::Str),
    ("scopes", "IRONGATE_SCOPES", Kind::List),
    (
        "login_limit_per_ip",
        "IRONGATE_LOGIN_LIMIT_PER_IP",
        Kind::Int,
    ),
    (
        "login_limit_per_user",
        "IRONGATE_LOGIN_LIMIT_PER_USER",
        Kind::Int,
    ),
    (
        "login_limit_window",
        "IRONGATE_LOGIN_LIMIT_WINDOW",
        Kind::Int,
    ),
    ("trusted_proxies", "IRONGATE_TRUSTED_PROXIES", Kind::List),
    ("cors_origins", "IRONGATE_CORS_ORIGINS", Kind::List),
    (
        "cors_allow_credentials",
        "IRONGATE_CORS_ALLOW_CREDENTIALS",
        Kind::Bool,
    ),
    (
        "session_idle_timeout",
        "IRONGATE_SESSION_IDLE_TIMEOUT",
        Kind::Int,
    ),
    ("session_lifetime", "IRONGATE_SESSION_LIFETIME", Kind::Int),
    ("google.client_id", "IRONGATE_GOOGLE_CLIENT_ID", Kind::Str),
    (
        "google.client_secret",
        "IRONGATE_GOOGLE_CLIENT_SECRET",
        Kind::Str,
    ),
    ("google.issuer", "IRONGATE_GOOGLE_ISSUER", Kind::Str),
];

impl Settings {
    /// Loads from `config` (or `./irongate.toml` when present) and the process environment.
    pub fn load(config: Option<&Path>) -> Result<Self, ConfigError> {
        let file = match config {
            Some(path) => Some(read_file(path)?),
            None => {
                let default = Path::new("irongate.toml");
                default.exists().then(|| read_file(default)).transpose()?
            }
        };
        Self::from_sources(
            file.as_ref().map(|(p, s)| (p.as_path(), s.as_str())),
            std::env::vars(),
        )
    }

    /// Builds settings from a TOML text (with its path, for messages) and environment pairs.
    pub fn from_sources(
        file: Option<(&Path, &str)>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut values = Table::new();
        if let Some((path, text)) = file {
            flatten_file(path, text, &mut values)?;
        }
        for (name, raw) in env {
            if let Some((key, _, kind)) = KEYS.iter().find(|(_, var, _)| *var == name) {
                values.insert((*key).to_owned(), env_value(key, *kind, &raw)?);
            }
        }
        Self::from_values(&Values(values))
    }

    fn from_values(v: &Values) -> Result<Self, ConfigError> {
        let issuer =
            validate_issuer(&v.string("issuer")?.unwrap_or_else(|| DEFAULT_ISSUER.into()))?;
        let database_url = v
            .string("database_url")?
            .unwrap_or_else(|| "sqlite://irongate.db".into());
        let database_kind = database_kind(&database_url)?;
        let redis_url = v.string("redis_url")?.filter(|s| !s.is_empty());
        if let Some(url) = &redis_url {
            validate_redis_url(url)?;
        }
        let cors_allow_credentials = v.bool("cors_allow_credentials")?.unwrap_or(false);
        let cors_origins = validate_origins(v.list("cors_origins")?, cors_allow_credentials)?;
        let scopes = v
            .list("scopes")?
            .unwrap_or_else(|| split_list(DEFAULT_SCOPES));
        Ok(Self {
            audience: non_empty("audience", v.string("audience")?)?
                .unwrap_or_else(|| issuer.clone()),
            bind: validate_bind(v.string("bind")?.unwrap_or_else(|| "127.0.0.1:8080".into()))?,
            database_url,
            database_kind,
            redis_url,
            redis_prefix: v
                .string("redis_prefix")?
                .unwrap_or_else(|| "irongate:".into()),
            keys_dir: PathBuf::from(
                non_empty("keys_dir", v.string("keys_dir")?)?.unwrap_or_else(|| "keys".into()),
            ),
            key_poll_interval: v.ranged("key_poll_interval", 10, 1, 30)?,
            access_token_ttl: v.ranged("access_token_ttl", 900, 1, 86_400)?,
            refresh_token_ttl: v.ranged("refresh_token_ttl", 604_800, 1, 31_536_000)?,
            scopes: ScopeCatalogue::new(scopes).map_err(|e| err("scopes", e))?,
            login_limit_per_ip: v.ranged("login_limit_per_ip", 20, 0, 1_000_000)? as u32,
            login_limit_per_user: v.ranged("login_limit_per_user", 5, 0, 1_000_000)? as u32,
            login_limit_window: v.ranged("login_limit_window", 900, 1, 86_400)?,
            trusted_proxies: parse_proxies(v.list("trusted_proxies")?.unwrap_or_default())?,
            cors_origins,
            cors_allow_credentials,
            session_idle_timeout: v.ranged("session_idle_timeout", 1800, 1, 31_536_000)?,
            session_lifetime: v.ranged("session_lifetime", 43_200, 1, 31_536_000)?,
            google: google(v)?,
            issuer,
        })
    }

    /// An endpoint URL under the issuer (`path` starts with `/`).
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.issuer.trim_end_matches('/'), path)
    }

    /// The issuer's origin (`scheme://host[:port]`, RFC 6454), as browsers send it in `Origin`.
    pub fn issuer_origin(&self) -> String {
        url::Url::parse(&self.issuer)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }

    /// Whether cookies must be `Secure` and `__Host-` prefixed.
    pub fn issuer_is_https(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// The longest time a token signed by a key can stay valid (for pruning rotated keys).
    pub fn max_signed_token_lifetime(&self) -> u64 {
        self.access_token_ttl
    }
}

fn read_file(path: &Path) -> Result<(PathBuf, String), ConfigError> {
    std::fs::read_to_string(path)
        .map(|s| (path.to_owned(), s))
        .map_err(|e| {
            ConfigError(format!(
                "cannot read configuration file {}: {e}",
                path.display()
            ))
        })
}

/// Flattens the file into dotted keys, refusing unknown ones so a typo never goes unnoticed.
fn flatten_file(path: &Path, text: &str, out: &mut Table) -> Result<(), ConfigError> {
    let table: Table = text.parse().map_err(|e: toml::de::Error| {
        let first = e
            .message()
            .lines()
            .next()
            .unwrap_or("syntax error")
            .to_owned();
        ConfigError(format!("configuration file {}: {first}", path.display()))
    })?;
    for (key, value) in table {
        match value {
            Value::Table(inner) if key == "google" => {
                for (k, v) in inner {
                    insert_known(path, format!("google.{k}"), v, out)?;
                }
            }
            v => insert_known(path, key, v, out)?,
        }
    }
    Ok(())
}

fn insert_known(
    path: &Path,
    key: String,
    value: Value,
    out: &mut Table,
) -> Result<(), ConfigError> {
    if !KEYS.iter().any(|(k, _, _)| *k == key) {
        return Err(ConfigError(format!(
            "configuration file {}: unknown key `{key}` (see the README for the keys irongate reads)",
            path.display()
        )));
    }
    out.insert(key, value);
    Ok(())
}

fn env_value(key: &str, kind: Kind, raw: &str) -> Result<Value, ConfigError> {
    Ok(match kind {
        Kind::Str => Value::String(raw.to_owned()),
        Kind::Int => Value::Integer(
            raw.trim()
                .parse()
                .map_err(|_| err(key, format!("expected a whole number, got {raw:?}")))?,
        ),
        Kind::Bool => Value::Boolean(match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" | "" => false,
            _ => return Err(err(key, format!("expected true or false, got {raw:?}"))),
        }),
        Kind::List => Value::String(raw.to_owned()),
    })
}

fn split_list(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

struct Values(Table);

impl Values {
    fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(err(
                key,
                format!("expected a string, got {}", other.type_str()),
            )),
        }
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(err(
                key,
                format!("expected true or false, got {}", other.type_str()),
            )),
        }
    }

    fn list(&self, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(split_list(s))),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s.clone()),
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

    fn ranged(&self, key: &str, default: u64, min: u64, max: u64) -> Result<u64, ConfigError> {
        let value = match self.0.get(key) {
            None => return Ok(default),
            Some(Value::Integer(i)) => *i,
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
    ok.then(|| raw.to_owned()).ok_or_else(bad)
}

fn validate_bind(raw: String) -> Result<String, ConfigError> {
    let port_ok = raw
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if port_ok {
        Ok(raw)
    } else {
        Err(err(
            "bind",
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

fn google(v: &Values) -> Result<Option<GoogleSettings>, ConfigError> {
    let id = v.string("google.client_id")?.filter(|s| !s.is_empty());
    let secret = v.string("google.client_secret")?.filter(|s| !s.is_empty());
    let issuer = v
        .string("google.issuer")?
        .unwrap_or_else(|| DEFAULT_GOOGLE_ISSUER.into());
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

#[cfg(test)]
mod tests;
