//! Logs (CONTRACT "Operations"): `log_format = json` writes one JSON object per line, and no
//! line of a full token flow carries a secret, a token or a password (issue "Operating irongate").

use crate::config::{server_log, start_server};
use crate::helpers::{PASSWORD, TestEnv};
use serde_json::Value;

fn field(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn json_logs_carry_no_secret_of_a_full_flow() {
    let env = TestEnv::new();
    let client = env
        .cli(
            &[
                "client",
                "create",
                "--name",
                "logs",
                "--grant-type",
                "password",
                "--grant-type",
                "refresh_token",
                "--scope",
                "openid",
            ],
            None,
        )
        .json();
    env.create_user("alice@example.com");
    let mut vars = env.env("http://127.0.0.1:8080");
    vars.push(("IRONGATE_LOG_FORMAT".into(), "json".into()));
    vars.push(("RUST_LOG".into(), "debug".into()));
    let server = start_server(env.dir.path(), &vars).await;
    let (id, secret) = (field(&client, "client_id"), field(&client, "client_secret"));
    let http = reqwest::Client::new();
    let token = |form: Vec<(&'static str, String)>| {
        let (http, url, id, secret) = (
            http.clone(),
            format!("{}/token", server.base),
            id.clone(),
            secret.clone(),
        );
        async move {
            let resp = http
                .post(url)
                .basic_auth(id, Some(secret))
                .form(&form)
                .send()
                .await
                .unwrap();
            resp.json::<Value>().await.unwrap()
        }
    };
    let login = |password: &str| {
        vec![
            ("grant_type", "password".to_owned()),
            ("username", "alice@example.com".to_owned()),
            ("password", password.to_owned()),
            ("scope", "openid".to_owned()),
        ]
    };
    let first = token(login(PASSWORD)).await;
    let refresh = field(&first, "refresh_token");
    let second = token(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh.clone()),
    ])
    .await;
    assert!(second["access_token"].is_string(), "{second}");
    // A reuse (logged as a warning, with its family) and a failed sign-in.
    let reused = token(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh.clone()),
    ])
    .await;
    assert_eq!(reused["error"], "invalid_grant");
    let wrong = token(login("not the password at all")).await;
    assert_eq!(wrong["error"], "invalid_grant");
    drop(server);

    let log = server_log(env.dir.path());
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() > 3, "{log}");
    for line in &lines {
        let entry: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            entry["level"].is_string() && entry["fields"].is_object(),
            "{line}"
        );
    }
    assert!(
        log.contains("refresh token reused"),
        "the reuse is logged: {log}"
    );
    let secrets = [
        secret,
        PASSWORD.to_owned(),
        "not the password at all".to_owned(),
        refresh,
        field(&first, "access_token"),
        field(&first, "id_token"),
        field(&second, "access_token"),
        field(&second, "refresh_token"),
    ];
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        assert!(!log.contains(s.as_str()), "a secret reached the log: {s}");
    }
}
