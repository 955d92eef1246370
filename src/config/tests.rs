use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(toml: Option<&str>, vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    Settings::from_sources(toml.map(|t| (Path::new("irongate.toml"), t)), env(vars))
}

fn error_of(toml: Option<&str>, vars: &[(&str, &str)]) -> String {
    load(toml, vars)
        .expect_err("configuration should be refused")
        .to_string()
}

#[test]
fn defaults_match_the_contract() {
    let s = load(None, &[]).unwrap();
    assert_eq!(s.server.issuer, "http://127.0.0.1:8080");
    assert_eq!(s.server.bind, "127.0.0.1:8080");
    assert_eq!(s.database.url, "sqlite://irongate.db");
    assert_eq!(s.database.kind, DatabaseKind::Sqlite);
    assert_eq!(s.redis.url, None);
    assert_eq!(s.keys.dir, PathBuf::from("keys"));
    assert_eq!((s.tokens.access_ttl, s.tokens.refresh_ttl), (900, 604_800));
    assert_eq!(s.tokens.audience, s.server.issuer);
    assert_eq!(
        s.tokens.scopes.api(),
        [
            "users:read",
            "users:write",
            "posts:read",
            "posts:write",
            "admin"
        ]
    );
    assert_eq!(
        (
            s.login.limit_per_ip,
            s.login.limit_per_user,
            s.login.limit_window
        ),
        (20, 5, 900)
    );
    assert!(
        s.login.trusted_proxies.is_empty()
            && s.cors.origins.is_empty()
            && !s.cors.allow_credentials
    );
    assert!(s.google.is_none());
}

#[test]
fn env_overrides_toml_overrides_defaults() {
    let toml = "issuer = \"https://file.example\"\naccess_token_ttl = 60\nscopes = [\"a:b\"]\n";
    let from_file = load(Some(toml), &[]).unwrap();
    assert_eq!(from_file.server.issuer, "https://file.example");
    assert_eq!(from_file.tokens.access_ttl, 60);
    assert_eq!(from_file.tokens.scopes.api(), ["a:b"]);
    assert_eq!(from_file.tokens.refresh_ttl, 604_800);

    let both = load(
        Some(toml),
        &[
            ("IRONGATE_ISSUER", "https://env.example"),
            ("IRONGATE_SCOPES", "x:y,z"),
            (
                "IRONGATE_CORS_ORIGINS",
                "https://a.test,https://b.test:8443",
            ),
        ],
    )
    .unwrap();
    assert_eq!(both.server.issuer, "https://env.example");
    assert_eq!(both.tokens.audience, "https://env.example");
    assert_eq!(both.tokens.access_ttl, 60);
    assert_eq!(both.tokens.scopes.api(), ["x:y", "z"]);
    assert_eq!(both.cors.origins, ["https://a.test", "https://b.test:8443"]);
}

#[test]
fn google_section_and_secret_redaction() {
    let toml = "[google]\nclient_id = \"id\"\nclient_secret = \"shh-very-secret\"\n";
    let s = load(
        Some(toml),
        &[("IRONGATE_GOOGLE_ISSUER", "http://127.0.0.1:9999")],
    )
    .unwrap();
    let g = s.google.clone().unwrap();
    assert_eq!(
        (g.client_id.as_str(), g.issuer.as_str()),
        ("id", "http://127.0.0.1:9999")
    );
    assert!(!format!("{s:?}").contains("shh-very-secret"));
    assert!(error_of(Some("[google]\nclient_id = \"id\"\n"), &[]).contains("google.client_secret"));
    assert!(g.allowed_domains.is_empty());
    let s = load(
        Some(toml),
        &[(
            "IRONGATE_GOOGLE_ALLOWED_DOMAINS",
            "Example.com, corp.example.org",
        )],
    )
    .unwrap();
    assert_eq!(
        s.google.unwrap().allowed_domains,
        ["example.com", "corp.example.org"]
    );
    let e = error_of(
        Some(toml),
        &[("IRONGATE_GOOGLE_ALLOWED_DOMAINS", "user@example.com")],
    );
    assert!(e.contains("google.allowed_domains"), "{e}");
}

/// Relying parties compare `iss` exactly, and cookie and HSTS decisions read the scheme: an
/// issuer is accepted only in the spelling the URL parser writes (issue 10, finding 5).
#[test]
fn issuers_are_accepted_only_in_canonical_form() {
    for bad in [
        "HTTPS://id.example.com",
        "https://ID.example.com",
        "https://id.example.com:443",
        "http://id.example.com:80/",
        "https://id.example.com/a/../b",
    ] {
        let e = error_of(None, &[("IRONGATE_ISSUER", bad)]);
        assert!(
            e.starts_with("configuration key `issuer`: must be written in canonical form"),
            "{bad}: {e}"
        );
        assert_eq!(e.lines().count(), 1, "{e}");
    }
    let e = error_of(None, &[("IRONGATE_ISSUER", "HTTPS://ID.Example.com:443")]);
    assert!(e.contains("use \"https://id.example.com\""), "{e}");
    for good in [
        "https://id.example.com",
        "https://id.example.com/",
        "https://id.example.com/tenant",
        "http://127.0.0.1:8080",
    ] {
        let s = load(None, &[("IRONGATE_ISSUER", good)]).unwrap();
        assert_eq!(s.server.issuer, good);
        assert_eq!(s.issuer_is_https(), good.starts_with("https:"));
    }
}

#[test]
fn invalid_issuers_are_refused_naming_the_key() {
    for bad in [
        "not a url",
        "ftp://x.test",
        "https://x.test/?a=b",
        "https://x.test/#f",
        "https://x.test?",
        "/relative",
    ] {
        let e = error_of(None, &[("IRONGATE_ISSUER", bad)]);
        assert!(e.contains("`issuer`"), "{bad}: {e}");
    }
    assert!(
        load(
            None,
            &[("IRONGATE_ISSUER", "https://id.example.com/tenant")]
        )
        .is_ok()
    );
}

#[test]
fn unknown_database_scheme_is_refused() {
    let e = error_of(
        None,
        &[("IRONGATE_DATABASE_URL", "mysql://root@localhost/db")],
    );
    assert!(e.contains("`database_url`") && e.contains("mysql"), "{e}");
    assert!(error_of(None, &[("IRONGATE_DATABASE_URL", "sqlite://")]).contains("database_url"));
    let pg = load(None, &[("IRONGATE_DATABASE_URL", "postgres://u@h/db")]).unwrap();
    assert_eq!(pg.database.kind, DatabaseKind::Postgres);
}

#[test]
fn cors_wildcard_with_credentials_is_refused() {
    let e = error_of(
        None,
        &[
            ("IRONGATE_CORS_ORIGINS", "*"),
            ("IRONGATE_CORS_ALLOW_CREDENTIALS", "true"),
        ],
    );
    assert!(
        e.contains("`cors_origins`") && e.contains("cors_allow_credentials"),
        "{e}"
    );
    assert!(load(None, &[("IRONGATE_CORS_ORIGINS", "*")]).is_ok());
}

#[test]
fn malformed_origins_are_refused() {
    for bad in [
        "https://a.test/",
        "https://a.test/path",
        "a.test",
        "https://A.test",
        "https://a.test:443",
        "ftp://a.test",
    ] {
        let e = error_of(None, &[("IRONGATE_CORS_ORIGINS", bad)]);
        assert!(e.contains("`cors_origins`"), "{bad}: {e}");
    }
}

#[test]
fn zero_ttls_are_refused() {
    for key in [
        "ACCESS_TOKEN_TTL",
        "REFRESH_TOKEN_TTL",
        "LOGIN_LIMIT_WINDOW",
    ] {
        let var = format!("IRONGATE_{key}");
        let e = error_of(None, &[(var.as_str(), "0")]);
        assert!(e.contains(&format!("`{}`", key.to_lowercase())), "{e}");
    }
    assert!(error_of(None, &[("IRONGATE_ACCESS_TOKEN_TTL", "86401")]).contains("access_token_ttl"));
    assert!(error_of(None, &[("IRONGATE_ACCESS_TOKEN_TTL", "ten")]).contains("access_token_ttl"));
    // A login limit of 0 turns it off and is allowed.
    assert_eq!(
        load(None, &[("IRONGATE_LOGIN_LIMIT_PER_IP", "0")])
            .unwrap()
            .login
            .limit_per_ip,
        0
    );
}

#[test]
fn file_errors_are_one_line_and_name_the_problem() {
    let e = error_of(Some("isuer = \"https://x\"\n"), &[]);
    assert!(e.contains("unknown key `isuer`"), "{e}");
    let e = error_of(Some("access_token_ttl = \"soon\"\n"), &[]);
    assert!(e.contains("`access_token_ttl`"), "{e}");
    let e = error_of(Some("issuer = \n"), &[]);
    assert!(!e.contains('\n'), "{e}");
}

#[test]
fn other_values_are_validated() {
    assert!(
        error_of(None, &[("IRONGATE_TRUSTED_PROXIES", "10.0.0.0/33")]).contains("trusted_proxies")
    );
    assert!(
        load(
            None,
            &[("IRONGATE_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1")]
        )
        .is_ok()
    );
    assert!(error_of(None, &[("IRONGATE_REDIS_URL", "http://localhost")]).contains("redis_url"));
    assert!(error_of(None, &[("IRONGATE_BIND", "8080")]).contains("bind"));
    assert!(error_of(None, &[("IRONGATE_SCOPES", "ok bad\"scope")]).contains("scopes"));
    assert!(
        error_of(None, &[("IRONGATE_CORS_ALLOW_CREDENTIALS", "maybe")])
            .contains("cors_allow_credentials")
    );
}

#[test]
fn the_keys_and_their_variables_are_the_documented_ones() {
    let vars: Vec<String> = Raw::keys().iter().map(|k| env_var(k)).collect();
    let mut expected = [
        "IRONGATE_ISSUER",
        "IRONGATE_BIND",
        "IRONGATE_LOG_FORMAT",
        "IRONGATE_METRICS_BIND",
        "IRONGATE_DATABASE_URL",
        "IRONGATE_REDIS_URL",
        "IRONGATE_REDIS_PREFIX",
        "IRONGATE_KEYS_DIR",
        "IRONGATE_KEY_POLL_INTERVAL",
        "IRONGATE_ACCESS_TOKEN_TTL",
        "IRONGATE_REFRESH_TOKEN_TTL",
        "IRONGATE_API_KEY_MAX_TTL",
        "IRONGATE_AUDIENCE",
        "IRONGATE_SCOPES",
        "IRONGATE_LOGIN_LIMIT_PER_IP",
        "IRONGATE_LOGIN_LIMIT_PER_USER",
        "IRONGATE_LOGIN_LIMIT_PER_USER_GLOBAL",
        "IRONGATE_LOGIN_LIMIT_WINDOW",
        "IRONGATE_LOGIN_LIMIT_TABLE_SIZE",
        "IRONGATE_TRUSTED_PROXIES",
        "IRONGATE_CORS_ORIGINS",
        "IRONGATE_CORS_ALLOW_CREDENTIALS",
        "IRONGATE_SESSION_IDLE_TIMEOUT",
        "IRONGATE_SESSION_LIFETIME",
        "IRONGATE_GOOGLE_CLIENT_ID",
        "IRONGATE_GOOGLE_CLIENT_SECRET",
        "IRONGATE_GOOGLE_ISSUER",
        "IRONGATE_GOOGLE_ALLOWED_DOMAINS",
    ];
    expected.sort_unstable();
    let mut vars = vars;
    vars.sort_unstable();
    assert_eq!(vars, expected);
    assert!(Raw::keys().contains(&"google.client_id".to_string()));
}
