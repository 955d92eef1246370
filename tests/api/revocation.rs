//! Revocation (RFC 7009), introspection (RFC 7662) and log out everywhere.

use crate::helpers::{Client, PASSWORD, TestApp, json_of, spawn_app};
use serde_json::{Value, json};

async fn introspect(app: &TestApp, c: &Client, token: &str) -> Value {
    let (status, headers, body) = json_of(
        app.post_to("/introspect", Some((&c.id, &c.secret)), &[("token", token)])
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    body
}

fn s(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sec_34_revoking_a_refresh_token_revokes_its_family_and_access_tokens() {
    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    let first = app.password_login(&c, "openid").await;
    let (_, second) = app.refresh(&c, &s(&first, "refresh_token"), None).await;
    let other_session = app.password_login(&c, "openid").await;

    assert_eq!(app.revoke(&c, &s(&second, "refresh_token")).await, 200);
    let (status, err) = app.refresh(&c, &s(&second, "refresh_token"), None).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(app.userinfo_status(&s(&second, "access_token")).await, 401);
    assert_eq!(app.userinfo_status(&s(&first, "access_token")).await, 401);
    assert_eq!(
        introspect(&app, &c, &s(&second, "access_token")).await,
        json!({ "active": false })
    );
    // Another family of the same user is untouched.
    assert_eq!(
        app.userinfo_status(&s(&other_session, "access_token"))
            .await,
        200
    );
    assert_eq!(
        app.refresh(&c, &s(&other_session, "refresh_token"), None)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn sec_34_revoking_an_access_token_blocklists_its_jti() {
    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    let body = app.password_login(&c, "openid").await;
    let token = s(&body, "access_token");
    assert_eq!(introspect(&app, &c, &token).await["active"], true);
    assert_eq!(app.revoke(&c, &token).await, 200);
    assert_eq!(app.userinfo_status(&token).await, 401);
    assert_eq!(
        introspect(&app, &c, &token).await,
        json!({ "active": false })
    );
    // Revoked again: still 200. The refresh token lives on.
    assert_eq!(app.revoke(&c, &token).await, 200);
    assert_eq!(
        app.refresh(&c, &s(&body, "refresh_token"), None).await.0,
        200
    );
}

#[tokio::test]
async fn bad_revocation_requests_leave_tokens_working_sec_34() {
    let app = spawn_app().await;
    let (c1, _) = app.password_client_with_alice();
    let c2 = app.create_client(&["--grant-type", "client_credentials"]);
    let body = app.password_login(&c1, "openid").await;

    assert_eq!(app.revoke(&c1, "garbage").await, 200, "unknown tokens: 200");
    assert_eq!(app.revoke(&c1, "a.b.c").await, 200);
    // Another client's tokens are left alone.
    assert_eq!(app.revoke(&c2, &s(&body, "refresh_token")).await, 200);
    assert_eq!(app.revoke(&c2, &s(&body, "access_token")).await, 200);
    assert_eq!(app.userinfo_status(&s(&body, "access_token")).await, 200);
    // Unauthenticated, wrongly authenticated, no token, wrong method, JSON body.
    let resp = app.post_to("/revoke", None, &[("token", "x")]).await;
    assert_eq!(resp.status(), 401);
    let resp = app
        .post_to("/revoke", Some((&c1.id, "wrong")), &[("token", "x")])
        .await;
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    let (status, _, err) = json_of(
        app.post_to("/revoke", Some((&c1.id, &c1.secret)), &[])
            .await,
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_request"))
    );
    assert_eq!(
        app.http
            .get(app.url("/revoke"))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
    let resp = app
        .http
        .post(app.url("/revoke"))
        .basic_auth(&c1.id, Some(&c1.secret))
        .json(&json!({ "token": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // All of that left the tokens working.
    assert_eq!(
        app.refresh(&c1, &s(&body, "refresh_token"), None).await.0,
        200
    );
}

#[tokio::test]
async fn only_confidential_clients_introspect_and_see_the_expected_members_sec_35() {
    let app = spawn_app().await;
    let (c1, user) = app.password_client_with_alice();
    let c2 = app.create_client(&[
        "--grant-type",
        "client_credentials",
        "--scope",
        "users:read",
    ]);
    let public = app.create_client(&["--public", "--redirect-uri", "https://app.test/cb"]);
    let body = app.password_login(&c1, "openid email").await;
    let access = s(&body, "access_token");
    let refresh_token = s(&body, "refresh_token");

    let active = introspect(&app, &c1, &access).await;
    let mut keys: Vec<&str> = active
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "active",
            "aud",
            "client_id",
            "exp",
            "iat",
            "iss",
            "jti",
            "scope",
            "sub",
            "token_type",
            "token_use"
        ]
    );
    // RFC 7662 §2.2: the RFC 6749 §7.1 type; `token_use` says which token it is.
    assert_eq!(active["token_type"], "Bearer");
    assert_eq!(active["token_use"], "access_token");
    assert_eq!(active["sub"], user.as_str());
    assert_eq!(active["client_id"], c1.id.as_str());
    assert_eq!(active["scope"], "email openid");
    assert_eq!(active["iss"], app.address.as_str());
    // Any confidential client may introspect access tokens.
    assert_eq!(introspect(&app, &c2, &access).await, active);

    let rt = introspect(&app, &c1, &refresh_token).await;
    let mut keys: Vec<&str> = rt.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "active",
            "client_id",
            "exp",
            "iat",
            "iss",
            "scope",
            "sub",
            "token_use"
        ]
    );
    assert_eq!(rt["token_use"], "refresh_token");
    assert_eq!(rt["sub"], user.as_str());
    // Refresh tokens only by their own client.
    assert_eq!(
        introspect(&app, &c2, &refresh_token).await,
        json!({ "active": false })
    );

    // A client_credentials token: active, its subject the client.
    let cc = app.client_token(&c2).await;
    let cc_info = introspect(&app, &c1, &cc).await;
    assert_eq!(cc_info["sub"], c2.id.as_str());

    for garbage in ["garbage", "a.b.c", &"x".repeat(3000)] {
        assert_eq!(
            introspect(&app, &c1, garbage).await,
            json!({ "active": false })
        );
    }
    // A used refresh token is no longer active.
    let (_, rotated) = app.refresh(&c1, &refresh_token, None).await;
    assert_eq!(
        introspect(&app, &c1, &refresh_token).await,
        json!({ "active": false })
    );
    assert_eq!(
        introspect(&app, &c1, &s(&rotated, "refresh_token")).await["active"],
        true
    );

    // Who may not ask: nobody unauthenticated, no public client.
    let resp = app
        .post_to("/introspect", None, &[("token", access.as_str())])
        .await;
    assert_eq!(resp.status(), 401);
    let resp = app
        .post_to(
            "/introspect",
            None,
            &[
                ("token", access.as_str()),
                ("client_id", public.id.as_str()),
            ],
        )
        .await;
    let (status, _, err) = json_of(resp).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, _, err) = json_of(
        app.post_to("/introspect", Some((&c1.id, &c1.secret)), &[])
            .await,
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[tokio::test]
async fn sec_35_expired_access_tokens_are_inactive() {
    let app =
        crate::helpers::spawn_app_with(crate::helpers::TestEnv::new(), |s| s.tokens.access_ttl = 1)
            .await;
    let (c, _) = app.password_client_with_alice();
    let body = app.password_login(&c, "openid").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        introspect(&app, &c, &s(&body, "access_token")).await,
        json!({ "active": false })
    );
    assert_eq!(app.userinfo_status(&s(&body, "access_token")).await, 401);
}

#[tokio::test]
async fn log_out_everywhere_with_the_users_own_token() {
    let app = spawn_app().await;
    let (third_party, _) = app.password_client_with_alice();
    // CONTRACT "Hardening": only a first-party client's token may log the user out everywhere.
    let c = app.create_client(&[
        "--grant-type",
        "password",
        "--grant-type",
        "refresh_token",
        "--scope",
        "openid",
        "--skip-consent",
    ]);
    let laptop = app.password_login(&c, "openid").await;
    let phone = app.password_login(&c, "openid").await;

    let resp = app.http.post(app.url("/logout-all")).send().await.unwrap();
    assert_eq!(resp.status(), 401, "a token is required");
    let service = app.create_client(&["--grant-type", "client_credentials"]);
    let cc = app.client_token(&service).await;
    let resp = app
        .http
        .post(app.url("/logout-all"))
        .bearer_auth(&cc)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        401,
        "a client's own token has no user to log out"
    );
    let other_app = app.password_login(&third_party, "openid").await;
    let resp = app
        .http
        .post(app.url("/logout-all"))
        .bearer_auth(s(&other_app, "access_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "a third-party application may not");
    let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert_eq!(
        app.userinfo_status(&s(&laptop, "access_token")).await,
        200,
        "nothing ended"
    );

    let resp = app
        .http
        .post(app.url("/logout-all"))
        .bearer_auth(s(&laptop, "access_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    for session in [&laptop, &phone] {
        assert_eq!(app.userinfo_status(&s(session, "access_token")).await, 401);
        assert_eq!(
            introspect(&app, &c, &s(session, "access_token")).await,
            json!({ "active": false })
        );
        assert_eq!(
            introspect(&app, &c, &s(session, "refresh_token")).await,
            json!({ "active": false })
        );
        let (status, _) = app.refresh(&c, &s(session, "refresh_token"), None).await;
        assert_eq!(status, 400);
    }
    // Signing in again works.
    let again = app.password_login(&c, "openid").await;
    assert_eq!(app.userinfo_status(&s(&again, "access_token")).await, 200);
}

#[tokio::test]
async fn cli_logout_all_and_disable_end_every_token() {
    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    let body = app.password_login(&c, "openid").await;
    app.env
        .cli(
            &["user", "logout-all", "--email", "ALICE@example.com"],
            None,
        )
        .json();
    assert_eq!(app.userinfo_status(&s(&body, "access_token")).await, 401);
    // Logging out everywhere revokes the user's refresh tokens (and changes the stamp).
    assert_eq!(
        introspect(&app, &c, &s(&body, "refresh_token")).await,
        json!({"active": false})
    );
    assert_eq!(
        app.refresh(&c, &s(&body, "refresh_token"), None).await.0,
        400
    );

    let body = app.password_login(&c, "openid").await;
    assert_eq!(
        introspect(&app, &c, &s(&body, "refresh_token")).await["active"],
        true
    );
    app.env
        .cli(&["user", "disable", "--email", "alice@example.com"], None)
        .json();
    assert_eq!(app.userinfo_status(&s(&body, "access_token")).await, 401);
    assert_eq!(
        introspect(&app, &c, &s(&body, "refresh_token")).await,
        json!({"active": false})
    );
    assert_eq!(
        app.refresh(&c, &s(&body, "refresh_token"), None).await.0,
        400
    );
    let (status, _, err) = json_of(
        app.post_token(
            Some((&c.id, &c.secret)),
            &[
                ("grant_type", "password"),
                ("username", "alice@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

/// SEC-35: a refresh token whose row is untouched still introspects inactive once its user's
/// security stamp changes or the user is disabled (the join on the user, checked without the
/// revocation that logout-all and disable also write).
#[tokio::test]
async fn refresh_tokens_introspect_inactive_when_only_their_user_changed_sec_35() {
    let app = spawn_app().await;
    let (c, alice) = app.password_client_with_alice();
    let change = |active: bool, stamp: &'static str| {
        let alice = alice.clone();
        app.state
            .store
            .run(move |conn| irongate::store::set_user_active(conn, &alice, active, stamp))
    };

    let body = app.password_login(&c, "openid").await;
    let refresh = s(&body, "refresh_token");
    assert_eq!(introspect(&app, &c, &refresh).await["active"], true);
    change(true, "a-new-stamp").await.unwrap();
    assert_eq!(
        introspect(&app, &c, &refresh).await,
        json!({"active": false})
    );

    let body = app.password_login(&c, "openid").await;
    let refresh = s(&body, "refresh_token");
    assert_eq!(introspect(&app, &c, &refresh).await["active"], true);
    // Disabled, with the stamp the token was issued under.
    change(false, "a-new-stamp").await.unwrap();
    assert_eq!(
        introspect(&app, &c, &refresh).await,
        json!({"active": false})
    );
    change(true, "a-new-stamp").await.unwrap();
    assert_eq!(introspect(&app, &c, &refresh).await["active"], true);
}
