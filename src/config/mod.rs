//! Typed settings: a TOML file, then `IRONGATE_*` environment variables (later wins), layered by
//! figment over built-in defaults. `Settings::load` validates everything and names the offending
//! key on failure.
//!
//! Adding a key takes a field in `Raw` (its type says what the key holds; its TOML name and its
//! environment variable follow from the field's name) and its line in `validate.rs` (default,
//! checks, and its place in `Settings`).

mod validate;

use crate::domain::ScopeCatalogue;
use figment::providers::Serialized;
use figment::value::magic::Tagged;
use figment::{Figment, Profile};
use ipnet::IpNet;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

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
    /// `google.allowed_domains`: the `hd` values allowed to sign in (lowercase); empty, any.
    pub allowed_domains: Vec<String>,
}

impl std::fmt::Debug for GoogleSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleSettings")
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("issuer", &self.issuer)
            .field("allowed_domains", &self.allowed_domains)
            .finish()
    }
}

/// The validated configuration every command runs with, in sections. The keys of the file and
/// the environment stay flat (`access_token_ttl`, `IRONGATE_ACCESS_TOKEN_TTL`); each section
/// names the keys it comes from.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub keys: KeySettings,
    pub tokens: TokenSettings,
    pub login: LoginSettings,
    pub sessions: SessionSettings,
    pub cors: CorsSettings,
    /// `google.client_id`, `google.client_secret`, `google.issuer`, `google.allowed_domains`:
    /// set when both the id and the secret are.
    pub google: Option<GoogleSettings>,
}

/// `issuer`, `bind`.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// The `iss` of every token and the base of every endpoint URL.
    pub issuer: String,
    pub bind: String,
    /// `log_format`: one JSON object per line for log pipelines, or text.
    pub log_json: bool,
    /// `metrics_bind`: where Prometheus scrapes `/metrics`; None: no metrics listener.
    pub metrics_bind: Option<String>,
}

/// `database_url`.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
    /// The backend the URL's scheme selects.
    pub kind: DatabaseKind,
}

/// `redis_url`, `redis_prefix`.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// `None`: revocation lists, counters and caches live in process.
    pub url: Option<String>,
    pub prefix: String,
}

/// `keys_dir`, `key_poll_interval`.
#[derive(Debug, Clone)]
pub struct KeySettings {
    pub dir: PathBuf,
    /// Seconds between looks for keys rotated by another process.
    pub poll_interval: u64,
}

/// `access_token_ttl`, `refresh_token_ttl`, `api_key_max_ttl`, `audience`, `scopes`.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// Seconds.
    pub access_ttl: u64,
    /// Seconds, the absolute lifetime of a refresh-token family.
    pub refresh_ttl: u64,
    /// Seconds, the longest lifetime an API key may be given.
    pub api_key_max_ttl: u64,
    pub audience: String,
    pub scopes: ScopeCatalogue,
}

/// `login_limit_per_ip`, `login_limit_per_user`, `login_limit_per_user_global`,
/// `login_limit_window`, `login_limit_table_size`, `trusted_proxies`.
#[derive(Debug, Clone)]
pub struct LoginSettings {
    /// Sign-in attempts per client IP per window; 0 turns the limit off.
    pub limit_per_ip: u32,
    /// Failed sign-ins per username from one client network per window; 0 turns it off.
    pub limit_per_user: u32,
    /// Failed sign-ins per username from everywhere per window; 0 turns it off.
    pub limit_per_user_global: u32,
    /// Seconds.
    pub limit_window: u64,
    /// Counters the in-process limiter holds before a full table forgets the oldest.
    pub limit_table_size: usize,
    /// Networks whose `X-Forwarded-For` is believed for the client IP.
    pub trusted_proxies: Vec<IpNet>,
}

/// `session_idle_timeout`, `session_lifetime`.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// Seconds a browser session may sit unused before it ends.
    pub idle_timeout: u64,
    /// Seconds a browser session lasts at most, used or not.
    pub lifetime: u64,
}

/// `cors_origins`, `cors_allow_credentials`.
#[derive(Debug, Clone)]
pub struct CorsSettings {
    /// Exact origins, or `*`.
    pub origins: Vec<String>,
    pub allow_credentials: bool,
}

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
        let keys = Raw::keys();
        let mut layers = Figment::new();
        if let Some((path, text)) = file {
            for (key, value) in file_values(path, text, &keys)? {
                layers = layers.merge(Serialized::default(&key, value));
            }
        }
        for (name, text) in env {
            if let Some(key) = keys.iter().find(|key| env_var(key) == name) {
                let var = Serialized::global(key, text);
                // Read on its own first, so that of several malformed variables the first is named.
                Figment::from(var.clone())
                    .extract::<Raw>()
                    .map_err(unreadable)?;
                layers = layers.merge(var);
            }
        }
        validate::settings(layers.extract().map_err(unreadable)?)
    }

    /// An endpoint URL under the issuer (`path` starts with `/`).
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.server.issuer.trim_end_matches('/'), path)
    }

    /// The issuer's origin (`scheme://host[:port]`, RFC 6454), as browsers send it in `Origin`.
    pub fn issuer_origin(&self) -> String {
        url::Url::parse(&self.server.issuer)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }

    /// Whether cookies must be `Secure` and `__Host-` prefixed.
    pub fn issuer_is_https(&self) -> bool {
        // The issuer is validated canonical (lowercase scheme), so its prefix says it; this runs
        // on every session lookup, where parsing the URL each time would be waste.
        self.server.issuer.starts_with("https://")
    }

    /// The longest time a token signed by a key can stay valid (for pruning rotated keys).
    pub fn max_signed_token_lifetime(&self) -> u64 {
        self.tokens.access_ttl
    }
}

/// Every key irongate reads, as the merged file and environment give it. Each field is named
/// as its key in the TOML file (`google.*` in its table); its environment variable is
/// `IRONGATE_` and the key in capitals with `.` written `_`.
#[derive(Default, Deserialize, Serialize)]
struct Raw {
    issuer: Option<Given<Text>>,
    bind: Option<Given<Text>>,
    log_format: Option<Given<Text>>,
    metrics_bind: Option<Given<Text>>,
    database_url: Option<Given<Text>>,
    redis_url: Option<Given<Text>>,
    redis_prefix: Option<Given<Text>>,
    keys_dir: Option<Given<Text>>,
    key_poll_interval: Option<Given<Whole>>,
    access_token_ttl: Option<Given<Whole>>,
    refresh_token_ttl: Option<Given<Whole>>,
    api_key_max_ttl: Option<Given<Whole>>,
    audience: Option<Given<Text>>,
    scopes: Option<Given<List>>,
    login_limit_per_ip: Option<Given<Whole>>,
    login_limit_per_user: Option<Given<Whole>>,
    login_limit_per_user_global: Option<Given<Whole>>,
    login_limit_window: Option<Given<Whole>>,
    login_limit_table_size: Option<Given<Whole>>,
    trusted_proxies: Option<Given<List>>,
    cors_origins: Option<Given<List>>,
    cors_allow_credentials: Option<Given<Flag>>,
    session_idle_timeout: Option<Given<Whole>>,
    session_lifetime: Option<Given<Whole>>,
    #[serde(default)]
    google: RawGoogle,
}

/// The `[google]` table.
#[derive(Default, Deserialize, Serialize)]
struct RawGoogle {
    client_id: Option<Given<Text>>,
    client_secret: Option<Given<Text>>,
    issuer: Option<Given<Text>>,
    allowed_domains: Option<Given<List>>,
}

impl Raw {
    /// Every key, dotted (`google.client_id`), read off the fields of `Raw`.
    fn keys() -> Vec<String> {
        fn walk(prefix: &str, value: figment::value::Value, out: &mut Vec<String>) {
            match value {
                figment::value::Value::Dict(_, dict) => {
                    for (name, inner) in dict {
                        let key = if prefix.is_empty() {
                            name
                        } else {
                            format!("{prefix}.{name}")
                        };
                        walk(&key, inner, out);
                    }
                }
                _ => out.push(prefix.to_owned()),
            }
        }
        let mut keys = Vec::new();
        // A struct of options always serializes; the unit test pins the list.
        if let Ok(all_unset) = figment::value::Value::serialize(Raw::default()) {
            walk("", all_unset, &mut keys);
        }
        keys
    }
}

/// The environment variable that sets `key`.
fn env_var(key: &str) -> String {
    format!("IRONGATE_{}", key.replace('.', "_").to_ascii_uppercase())
}

/// A value as the file or the environment gave it, whatever its type: validation checks the
/// type, so that a wrong one is refused naming the key. `K` is what the key holds.
struct Given<K> {
    value: Value,
    kind: PhantomData<K>,
}

impl<K> Given<K> {
    fn into_value(self) -> Value {
        self.value
    }
}

/// What a key holds. Environment variables are text: each kind reads that text itself, so a
/// variable it cannot read is refused as it is read, quoting what was written.
trait Kind {
    fn from_env(text: String) -> Result<Value, String>;
}

/// A string.
enum Text {}
/// A whole number.
enum Whole {}
/// `true` or `false`; in the environment also `1`/`0`, `yes`/`no`, `on`/`off`, empty for false.
enum Flag {}
/// A list of strings: a TOML array, or a string split at commas and whitespace.
enum List {}

impl Kind for Text {
    fn from_env(text: String) -> Result<Value, String> {
        Ok(Value::String(text))
    }
}

impl Kind for List {
    fn from_env(text: String) -> Result<Value, String> {
        Ok(Value::String(text))
    }
}

impl Kind for Whole {
    fn from_env(text: String) -> Result<Value, String> {
        text.trim()
            .parse()
            .map(Value::Integer)
            .map_err(|_| format!("expected a whole number, got {text:?}"))
    }
}

impl Kind for Flag {
    fn from_env(text: String) -> Result<Value, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Value::Boolean(true)),
            "false" | "0" | "no" | "off" | "" => Ok(Value::Boolean(false)),
            _ => Err(format!("expected true or false, got {text:?}")),
        }
    }
}

impl<'de, K: Kind> Deserialize<'de> for Given<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let tagged = Tagged::<Value>::deserialize(deserializer)?;
        // The environment is merged as figment's global profile; the file as its default one.
        let from_env = tagged.tag().profile() == Some(Profile::Global);
        let value = match tagged.into_inner() {
            Value::String(text) if from_env => K::from_env(text).map_err(D::Error::custom)?,
            value => value,
        };
        Ok(Self {
            value,
            kind: PhantomData,
        })
    }
}

/// Only so that `Raw::keys` can list the fields.
impl<K> Serialize for Given<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

/// An environment variable its key could not read: the one error extraction can meet, as every
/// other value is taken as given and judged by `validate`.
fn unreadable(e: figment::Error) -> ConfigError {
    let key = e.path.join(".");
    match e.kind {
        figment::error::Kind::Message(message) => err(&key, message),
        other => err(&key, other),
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

/// The file's values under their dotted keys, in the file's key order; an unknown key is
/// refused so a typo never goes unnoticed.
fn file_values(
    path: &Path,
    text: &str,
    keys: &[String],
) -> Result<Vec<(String, Value)>, ConfigError> {
    let table: Table = text.parse().map_err(|e: toml::de::Error| {
        let first = e
            .message()
            .lines()
            .next()
            .unwrap_or("syntax error")
            .to_owned();
        ConfigError(format!("configuration file {}: {first}", path.display()))
    })?;
    let is_table = |name: &str| {
        keys.iter().any(|k| {
            k.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('.'))
        })
    };
    let mut values = Vec::new();
    for (name, value) in table {
        match value {
            Value::Table(inner) if is_table(&name) => {
                for (k, v) in inner {
                    values.push((format!("{name}.{k}"), v));
                }
            }
            v => values.push((name, v)),
        }
    }
    if let Some((unknown, _)) = values.iter().find(|(key, _)| !keys.contains(key)) {
        return Err(ConfigError(format!(
            "configuration file {}: unknown key `{unknown}` (see the README for the keys irongate reads)",
            path.display()
        )));
    }
    Ok(values)
}

#[cfg(test)]
mod tests;
