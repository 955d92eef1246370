//! RFC 8693 token exchange at the token endpoint (CONTRACT "API keys"): an API key for a
//! short-lived access token of its user.

use crate::api_key_use::{create, introspect, key, setup};
use crate::helpers::{Client, TestApp, json_of};
use serde_json::{Value, json};

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const KEY_TYPE: &str = "urn:irongate:params:oauth:token-type:api_key";

async fn exchange(app: &TestApp, c: &Client, form: &[(&str, &str)]) -> (u16, Value) {
    let mut fields = vec![("grant_type", EXCHANGE)];
    fields.extend_from_slice(form);
    let (status, _, body) = json_of(app.post_token(Some((&c.id, &c.secret)), &fields).await).await;
    (status, body)
}

/// RFC 8693: a client registered for token exchange trades an API key for a short-lived RS256
/// access token of the key's user (verified against the JWKS) with `api_key_id`, the key's
/// organization and authorization claims; `scope` may narrow the key's scopes, never widen.
#[tokio::test]
async fn token_exchange_trades_a_key_for_a_short_lived_access_token() {
    let (app, _) = setup().await;
    let service = app.create_client(&["--grant-type", EXCHANGE, "--scope", "posts:read"]);
    let created = create(
        &app,
        &[
            "--scope",
            "users:read",
            "--scope",
            "posts:write",
            "--org",
            "acme",
        ],
    );
    let k = key(&created);
    let (status, body) = exchange(
        &app,
        &service,
        &[("subject_token", &k), ("subject_token_type", KEY_TYPE)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let claims = app
        .verified_claims(body["access_token"].as_str().unwrap(), &app.address)
        .await;
    assert_eq!(claims["api_key_id"], created["id"]);
    assert_eq!(claims["client_id"], service.id.as_str());
    assert_eq!(claims["scope"], "posts:write users:read");
    assert_eq!(claims["org_id"], created["org_id"]);
    assert_eq!(claims["org_roles"], json!(["auditor"]));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    let seen = introspect(&app, &service, body["access_token"].as_str().unwrap()).await;
    assert_eq!(seen["api_key_id"], created["id"], "{seen}");

    let (status, body) = exchange(
        &app,
        &service,
        &[
            ("subject_token", &k),
            ("subject_token_type", KEY_TYPE),
            ("scope", "users:read"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "users:read");
}

/// Token exchange refusals: a wrong subject token type → invalid_request; scope widening →
/// invalid_scope; a revoked key → invalid_grant; a client not registered for the grant →
/// unauthorized_client; a public client cannot be registered for it.
#[tokio::test]
async fn token_exchange_refusals() {
    let (app, c) = setup().await;
    let service = app.create_client(&["--grant-type", EXCHANGE]);
    let created = create(&app, &["--scope", "posts:read"]);
    let k = key(&created);
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[
                ("subject_token", &k),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:access_token",
                ),
            ],
            "invalid_request",
        ),
        (&[("subject_token", &k)], "invalid_request"),
        (
            &[
                ("subject_token", &k),
                ("subject_token_type", KEY_TYPE),
                ("scope", "posts:read posts:write"),
            ],
            "invalid_scope",
        ),
        (
            &[
                ("subject_token", &k),
                ("subject_token_type", KEY_TYPE),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:refresh_token",
                ),
            ],
            "invalid_request",
        ),
        (
            &[
                ("subject_token", "igk_nonsense"),
                ("subject_token_type", KEY_TYPE),
            ],
            "invalid_grant",
        ),
    ];
    for (form, error) in cases {
        let (status, body) = exchange(&app, &service, form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some(error)),
            "{form:?}: {body}"
        );
    }
    let (status, body) = exchange(
        &app,
        &c,
        &[("subject_token", &k), ("subject_token_type", KEY_TYPE)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{body}"
    );
    let id = created["id"].as_str().unwrap();
    app.env.cli(&["api-key", "revoke", "--id", id], None).json();
    let (status, body) = exchange(
        &app,
        &service,
        &[("subject_token", &k), ("subject_token_type", KEY_TYPE)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    app.env
        .cli(
            &[
                "client",
                "create",
                "--name",
                "p",
                "--public",
                "--grant-type",
                EXCHANGE,
            ],
            None,
        )
        .assert_fails_with("public client");
}
