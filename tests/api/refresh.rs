//! The refresh_token grant: rotation, reuse detection, binding, scope, lifetime, races.

use crate::helpers::{TestEnv, json_of, spawn_app, spawn_app_with};
use serde_json::Value;

fn rt(body: &Value) -> String {
    body["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned()
}

fn at(body: &Value) -> String {
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sec_30_rotation_and_reuse_revokes_the_whole_family() {
    let app = spawn_app().await;
    let (c, user) = app.password_client_with_alice();
    let first = app.password_login(&c, "openid email").await;
    let rt1 = rt(&first);
    assert_eq!(rt1.len(), 43, "256 bits, base64url");
    assert!(!rt1.contains('.'), "opaque, not a JWT");

    let (status, second) = app.refresh(&c, &rt1, None).await;
    assert_eq!(status, 200, "{second}");
    let rt2 = rt(&second);
    assert_ne!(rt1, rt2, "every use rotates");
    assert_eq!(second["scope"], "email openid");
    assert!(second["id_token"].is_string(), "openid was granted");
    assert_eq!(app.userinfo_status(&at(&second)).await, 200);

    // RT1 again: likely theft. It fails, and so does everything of its family.
    let (status, body) = app.refresh(&c, &rt1, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = app.refresh(&c, &rt2, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "the newest token of the family is revoked too"
    );
    assert_eq!(app.userinfo_status(&at(&second)).await, 401);
    assert_eq!(app.userinfo_status(&at(&first)).await, 401);

    // Only the SHA-256 of a refresh token is stored.
    let hash = irongate::auth::secrets::hash_secret(&rt2);
    let stored = app
        .state
        .store
        .run(move |c| irongate::store::find_refresh_token(c, &hash))
        .await
        .unwrap()
        .expect("stored by hash");
    assert_eq!(stored.user_id, user);
    let raw = rt2.clone();
    let by_raw = app
        .state
        .store
        .run(move |c| irongate::store::find_refresh_token(c, &raw))
        .await
        .unwrap();
    assert!(by_raw.is_none());
}

#[tokio::test]
async fn sec_31_a_refresh_token_is_bound_to_its_client() {
    let app = spawn_app().await;
    let (c1, _) = app.password_client_with_alice();
    let c2 = app.create_client(&["--grant-type", "refresh_token", "--grant-type", "password"]);
    let body = app.password_login(&c1, "openid").await;
    let (status, other) = app.refresh(&c2, &rt(&body), None).await;
    assert_eq!(
        (status, other["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = app.refresh(&c1, &rt(&body), None).await;
    assert_eq!(
        status, 200,
        "another client's attempt does not burn the token"
    );
}

#[tokio::test]
async fn sec_32_a_refresh_cannot_widen_scope() {
    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    let body = app.password_login(&c, "openid email").await;
    let (status, wider) = app
        .refresh(&c, &rt(&body), Some("openid email users:read"))
        .await;
    assert_eq!(
        (status, wider["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, narrower) = app.refresh(&c, &rt(&body), Some("openid")).await;
    assert_eq!(status, 200, "{narrower}");
    assert_eq!(narrower["scope"], "openid");
    // The new refresh token keeps the original grant (RFC 6749 §6).
    let (status, again) = app.refresh(&c, &rt(&narrower), Some("openid email")).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["scope"], "email openid");
}

#[tokio::test]
async fn sec_33_a_family_ends_at_its_absolute_lifetime() {
    let app = spawn_app_with(TestEnv::new(), |s| s.tokens.refresh_ttl = 1).await;
    let (c, _) = app.password_client_with_alice();
    let body = app.password_login(&c, "openid").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, body) = app.refresh(&c, &rt(&body), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

/// REL-03 / SEC-30: of many concurrent uses of one refresh token exactly one succeeds.
#[tokio::test]
async fn rel_03_concurrent_refreshes_yield_exactly_one_success() {
    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    let token = rt(&app.password_login(&c, "openid").await);
    let attempts = (0..12).map(|_| app.refresh(&c, &token, None));
    let results = futures_util::future::join_all(attempts).await;
    let successes = results.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(successes, 1, "{results:?}");
    for (status, body) in &results {
        assert!(*status == 200 || body["error"] == "invalid_grant", "{body}");
    }
}

#[tokio::test]
async fn refresh_tokens_only_for_clients_registered_for_them() {
    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    let password_only = app.create_client(&["--grant-type", "password"]);
    let body = app.password_login(&password_only, "openid").await;
    assert!(body.get("refresh_token").is_none(), "{body}");
    // A client not registered for refresh_token cannot use one.
    let token = rt(&app.password_login(&c, "openid").await);
    let (status, _, body) = json_of(
        app.post_token(
            Some((&password_only.id, &password_only.secret)),
            &[("grant_type", "refresh_token"), ("refresh_token", &token)],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
}

/// Bad inputs, including SEC-40: an access or ID token is not a refresh token.
#[tokio::test]
async fn bad_refresh_inputs_are_refused_and_harm_nothing_sec_40() {
    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    let body = app.password_login(&c, "openid").await;
    let (status, _, missing) = json_of(
        app.post_token(Some((&c.id, &c.secret)), &[("grant_type", "refresh_token")])
            .await,
    )
    .await;
    assert_eq!(
        (status, missing["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let long = "x".repeat(5000);
    for token in [
        "garbage",
        long.as_str(),
        body["access_token"].as_str().unwrap(),
        body["id_token"].as_str().unwrap(),
    ] {
        let (status, err) = app.refresh(&c, token, None).await;
        assert_eq!(
            (status, err["error"].as_str()),
            (400, Some("invalid_grant")),
            "{token}"
        );
    }
    // None of that harmed the real token.
    assert_eq!(app.refresh(&c, &rt(&body), None).await.0, 200);
}
