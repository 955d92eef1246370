//! The command line's part of federation (CONTRACT "Sign in with Google"): `user create
//! --email-verified` and `user unlink`.

use crate::helpers::{PASSWORD, TestApp, json_of, spawn_app};
use serde_json::{Value, json};

async fn login(app: &TestApp, c: &crate::helpers::Client, email: &str) -> Value {
    let (status, _, body) = json_of(
        app.post_token(
            Some((&c.id, &c.secret)),
            &[
                ("grant_type", "password"),
                ("username", email),
                ("password", PASSWORD),
                ("scope", "openid email"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn userinfo(app: &TestApp, token: &str) -> (u16, Value) {
    let resp = app
        .http
        .get(format!("{}/userinfo", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A user made by `user create` has an unverified email unless `--email-verified` says so.
#[tokio::test]
async fn email_verified_is_false_unless_the_command_says_so() {
    let app = spawn_app().await;
    let c = app.create_client(&[
        "--grant-type",
        "password",
        "--scope",
        "openid",
        "--scope",
        "email",
    ]);
    for (email, flag, verified) in [
        ("plain@example.com", None, false),
        ("vera@example.com", Some("--email-verified"), true),
    ] {
        let mut args = vec!["user", "create", "--email", email, "--password-stdin"];
        args.extend(flag);
        app.env.cli(&args, Some(PASSWORD)).json();
        let token = login(&app, &c, email).await;
        let (status, info) = userinfo(&app, token["access_token"].as_str().unwrap()).await;
        assert_eq!(status, 200, "{info}");
        assert_eq!(info["email_verified"], verified, "{email}: {info}");
    }
}

/// `user unlink` removes the user's identity at an issuer and ends their sessions and tokens;
/// nothing linked there, or no such user → one-line refusal.
#[tokio::test]
async fn unlink_removes_the_identity_and_ends_the_users_tokens() {
    let app = spawn_app().await;
    let (c, user) = app.password_client_with_alice();
    let issuer = "https://accounts.google.com";
    let id = user.clone();
    app.state
        .store
        .run(move |conn| irongate::store::link_identity(conn, issuer, "1234567890", &id))
        .await
        .unwrap();
    let token = login(&app, &c, "alice@example.com").await;
    let access = token["access_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo(&app, &access).await.0, 200);

    let out = app
        .env
        .cli(
            &[
                "user",
                "unlink",
                "--email",
                "ALICE@example.com",
                "--issuer",
                issuer,
            ],
            None,
        )
        .json();
    assert_eq!(out, json!({"id": user, "email": "alice@example.com"}));
    let linked = app
        .state
        .store
        .run(move |conn| irongate::store::find_identity(conn, issuer, "1234567890"))
        .await
        .unwrap();
    assert_eq!(linked, None);
    assert_eq!(
        userinfo(&app, &access).await.0,
        401,
        "the user's tokens ended"
    );

    app.env
        .cli(
            &[
                "user",
                "unlink",
                "--email",
                "alice@example.com",
                "--issuer",
                issuer,
            ],
            None,
        )
        .assert_fails_with("no identity linked");
    app.env
        .cli(
            &[
                "user",
                "unlink",
                "--email",
                "nobody@example.com",
                "--issuer",
                issuer,
            ],
            None,
        )
        .assert_fails_with("nobody@example.com");
}
