//! The admin API's OpenAPI 3.1 document (it describes every route, and nothing else; a
//! snapshot shows its changes) and its audit events.

use crate::config::{server_log, start_server};
use crate::helpers::*;
use irongate::routes::admin::{PREFIX, ROUTES};
use serde_json::Value;
use std::collections::BTreeSet;

#[tokio::test]
async fn the_document_describes_every_route_and_nothing_else() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.url("/admin/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    // It parses as an OpenAPI document of version 3.1.
    let parsed: utoipa::openapi::OpenApi =
        serde_json::from_str(&text).expect("an OpenAPI document");
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(!parsed.paths.paths.is_empty());

    let described: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), format!("{PREFIX}{}", r.path)))
        .collect();
    assert_eq!(described, routed, "the document and the routes differ");

    // Every reference resolves; every operation says who may call it and what it answers.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for reference in refs(&doc) {
        let name = reference.trim_start_matches("#/components/schemas/");
        assert!(schemas.contains_key(name), "dangling {reference}");
    }
    assert_eq!(doc["security"][0]["bearer"], serde_json::json!([]));
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for status in ["401", "403"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path}: no {status}"
                );
            }
        }
    }

    // Any change to the document shows here as a diff (`cargo insta review` to accept one).
    insta::assert_snapshot!("admin_openapi", text);
}

fn refs(v: &Value) -> Vec<String> {
    match v {
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| match (k.as_str(), v) {
                ("$ref", Value::String(s)) => vec![s.clone()],
                _ => refs(v),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(refs).collect(),
        _ => Vec::new(),
    }
}

/// Every change through the admin API is an audit event at INFO on `irongate::audit`: who
/// (the client), what, which, and the request id the response carried.
#[tokio::test]
async fn every_change_is_an_audit_event() {
    let env = TestEnv::new();
    let client = env
        .cli(
            &[
                "client",
                "create",
                "--name",
                "ops",
                "--grant-type",
                "client_credentials",
                "--scope",
                "irongate:admin",
            ],
            None,
        )
        .json();
    let mut vars = env.env("http://127.0.0.1:8080");
    vars.push(("IRONGATE_LOG_FORMAT".into(), "json".into()));
    vars.push(("RUST_LOG".into(), "info".into()));
    let server = start_server(env.dir.path(), &vars).await;
    let http = reqwest::Client::new();
    let (id, secret) = (
        client["client_id"].as_str().unwrap(),
        client["client_secret"].as_str().unwrap(),
    );
    let token: Value = http
        .post(format!("{}/token", server.base))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "irongate:admin"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap();
    let made = http
        .post(format!("{}/admin/v1/users", server.base))
        .bearer_auth(token)
        .json(&serde_json::json!({"email": "audited@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let request_id = made.headers()["x-request-id"].to_str().unwrap().to_owned();
    let user: Value = made.json().await.unwrap();
    let listed = http
        .get(format!("{}/admin/v1/users", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    drop(server);

    let log = server_log(env.dir.path());
    let events: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["target"] == "irongate::audit")
        .collect();
    assert_eq!(
        events.len(),
        1,
        "one change, one event (a read is none): {log}"
    );
    let fields = &events[0]["fields"];
    assert_eq!(events[0]["level"], "INFO");
    assert_eq!(fields["actor"], format!("client:{id}"));
    assert_eq!(fields["action"], "user.create");
    assert_eq!(fields["resource"], user["id"]);
    assert_eq!(fields["request_id"], request_id.as_str());
}
