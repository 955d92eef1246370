//! The revocation feed (CONTRACT "Revocation feed") at irongate, and irongate-verify following
//! it: a revoked `jti` and a logout-all are refused within a poll; a feed that cannot be read
//! past the bound fails closed.

use crate::helpers::*;
use irongate_verify::{Rejection, Verifier};
use reqwest::Method;
use std::time::Duration;

/// Alice's access token from `client`.
async fn token_of(app: &TestApp, client: &Client) -> String {
    let body = app.password_login(client, "openid").await;
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_feed_is_for_confidential_clients_with_etags() {
    let app = spawn_app().await;
    let discovery = app.discovery().await;
    assert_eq!(
        discovery["revocation_feed_endpoint"],
        app.url("/revocations")
    );
    let client = app.create_client(&["--grant-type", "client_credentials"]);
    let get = |auth: Option<(&str, &str)>, etag: Option<&str>| {
        let mut r = app.http.get(app.url("/revocations"));
        if let Some((id, secret)) = auth {
            r = r.basic_auth(id, Some(secret));
        }
        if let Some(etag) = etag {
            r = r.header("if-none-match", etag);
        }
        r.send()
    };
    let first = get(Some((&client.id, &client.secret)), None).await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "private, max-age=5");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let body: serde_json::Value = first.json().await.unwrap();
    assert!(body["issued_at"].is_i64() && body["jti"].is_array() && body["users"].is_array());
    let again = get(Some((&client.id, &client.secret)), Some(&etag))
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // A change (a new user) changes the tag.
    app.create_user("newcomer@example.com", PASSWORD);
    let changed = get(Some((&client.id, &client.secret)), Some(&etag))
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_eq!(get(None, None).await.unwrap().status(), 401);
    assert_eq!(
        get(Some((&client.id, "wrong")), None)
            .await
            .unwrap()
            .status(),
        401
    );
    let public = app.create_client(&["--public", "--redirect-uri", REDIRECT]);
    let refused = app
        .http
        .get(app.url("/revocations"))
        .basic_auth(&public.id, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let post = app.http.post(app.url("/revocations")).send().await.unwrap();
    assert_eq!(post.status(), 405);
}

#[tokio::test]
async fn revocations_and_logout_all_reach_the_verifier_within_a_poll() {
    let app = spawn_app().await;
    let (client, _) = app.password_client_with_alice();
    let v = Verifier::builder(app.address.clone(), app.address.clone())
        .client(client.id.clone(), client.secret.clone())
        .revocation_feed(Duration::from_secs(1), Duration::from_secs(3))
        .build()
        .await
        .unwrap();
    let first = token_of(&app, &client).await;
    v.verify(&first).await.unwrap();
    let revoked = app
        .post_to(
            "/revoke",
            Some((&client.id, &client.secret)),
            &[("token", &first)],
        )
        .await;
    assert_eq!(revoked.status(), 200);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    match v.verify(&first).await {
        Err(Rejection::InvalidToken(why)) => assert!(why.contains("revoked"), "{why}"),
        other => panic!("a revoked token: {other:?}"),
    }

    let second = token_of(&app, &client).await;
    v.verify(&second).await.unwrap();
    app.env
        .cli(
            &["user", "logout-all", "--email", "alice@example.com"],
            None,
        )
        .json();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert!(matches!(
        v.verify(&second).await,
        Err(Rejection::InvalidToken(_))
    ));
    let third = token_of(&app, &client).await;
    assert!(
        v.verify(&third).await.is_ok(),
        "a token issued after is good"
    );

    // A user deleted through the admin API: listed as disabled, their tokens refused.
    let admin = app.service_token("irongate:admin").await;
    let dave = app.create_user("dave@example.com", PASSWORD);
    let (status, _, body) = json_of(
        app.post_token(
            Some((&client.id, &client.secret)),
            &[
                ("grant_type", "password"),
                ("username", "dave@example.com"),
                ("password", PASSWORD),
                ("scope", "openid"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let daves = body["access_token"].as_str().unwrap().to_owned();
    v.verify(&daves).await.unwrap();
    let deleted = app
        .admin(&admin, Method::DELETE, &format!("/users/{dave}"), None)
        .await;
    assert_eq!(deleted.status, 200);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert!(matches!(
        v.verify(&daves).await,
        Err(Rejection::InvalidToken(_))
    ));

    // The feed cannot be read any more (its client is gone): past the bound, fail closed.
    let gone = app
        .admin(
            &admin,
            Method::DELETE,
            &format!("/clients/{}", client.id),
            None,
        )
        .await;
    assert_eq!(gone.status, 200);
    tokio::time::sleep(Duration::from_millis(3500)).await;
    match v.verify(&third).await {
        Err(Rejection::Unavailable(_)) => {}
        other => panic!("a stale feed: {other:?}"),
    }
}

/// The feed and API keys need a client's credentials: without them the verifier is not built
/// (it would silently check no revocation).
#[tokio::test]
async fn a_feed_without_credentials_is_refused_at_build() {
    let app = spawn_app().await;
    let built = Verifier::builder(app.address.clone(), app.address.clone())
        .revocation_feed(Duration::from_secs(1), Duration::from_secs(3))
        .build()
        .await;
    assert!(built.is_err());
    let built = Verifier::builder(app.address.clone(), app.address.clone())
        .api_keys()
        .build()
        .await;
    assert!(built.is_err());
}
