//! Two nodes on one database and one Redis (CONTRACT "Operations"): any node answers any
//! request. A code issued on A is redeemed on B; a refresh token rotated on A and replayed on B
//! is refused as reused (and its family revoked); a revocation and a logout-all on A hold on B at
//! once; the sign-in limits count across both; a key rotation made on A's keys directory is
//! published by B within its poll interval. (An API key revoked on A is refused on B:
//! `api_key_use::a_revocation_is_seen_by_a_second_node_at_once`.)
//!
//! Runs where the nodes share state: with `IRONGATE_TEST_REDIS_URL` (`.ci/run`'s PostgreSQL and
//! Redis run). In-process state is, by design, one node's.

use crate::helpers::{
    Browser, PASSWORD, REDIRECT, VERIFIER, code_request, json_of, spawn_code_flow_app,
};
use serde_json::Value;
use std::time::{Duration, Instant};

fn shared_state() -> bool {
    std::env::var("IRONGATE_TEST_REDIS_URL").is_ok_and(|v| !v.is_empty())
}

fn s(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

/// SEC-30 / SEC-34 across nodes: a code from A redeemed on B; its refresh token rotated on A
/// and replayed on B; a revocation on A seen on B.
#[tokio::test]
async fn codes_refresh_tokens_and_revocations_cross_nodes() {
    if !shared_state() {
        return;
    }
    let (a, c) = spawn_code_flow_app().await;
    let b = a.second_node().await;
    let page = Browser::new(&a)
        .sign_in_and_approve(&code_request(&c, &[]), "alice@example.com")
        .await;
    let code = page.redirect_params()["code"].clone();
    let (status, _, tokens) = json_of(
        b.post_token(
            Some((&c.id, &c.secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "a code from A is redeemed on B: {tokens}");

    let first = s(&tokens, "refresh_token");
    let (status, rotated) = a.refresh(&c, &first, None).await;
    assert_eq!(status, 200, "{rotated}");
    let (status, replay) = b.refresh(&c, &first, None).await;
    assert_eq!((status, s(&replay, "error")), (400, "invalid_grant".into()));
    let (status, _) = a.refresh(&c, &s(&rotated, "refresh_token"), None).await;
    assert_eq!(status, 400, "the replay on B revoked the family everywhere");

    let (status, _, fresh) = json_of(
        a.post_token(
            Some((&c.id, &c.secret)),
            &[
                ("grant_type", "authorization_code"),
                (
                    "code",
                    &Browser::new(&a)
                        .sign_in_and_approve(&code_request(&c, &[]), "alice@example.com")
                        .await
                        .redirect_params()["code"],
                ),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{fresh}");
    let access = s(&fresh, "access_token");
    assert_eq!(b.userinfo_status(&access).await, 200);
    assert_eq!(a.revoke(&c, &access).await, 200);
    assert_eq!(
        b.userinfo_status(&access).await,
        401,
        "revoked on A, refused on B at once"
    );
}

/// SEC-57 across nodes: logout-all on A holds on B at once; sign-in failures count across both
/// nodes.
#[tokio::test]
async fn logout_all_and_sign_in_limits_cross_nodes() {
    if !shared_state() {
        return;
    }
    let (a, _) = spawn_code_flow_app().await;
    let b = a.second_node().await;
    let first_party = a.create_client(&[
        "--grant-type",
        "password",
        "--skip-consent",
        "--scope",
        "openid",
    ]);
    let tokens = a.password_login(&first_party, "openid").await;
    let access = s(&tokens, "access_token");
    assert_eq!(b.userinfo_status(&access).await, 200);
    let other = b.password_login(&first_party, "openid").await;
    let resp = a
        .http
        .post(format!("{}/logout-all", a.address))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(
        b.userinfo_status(&s(&other, "access_token")).await,
        401,
        "ended on B too"
    );

    // Five failures from one network (the per-username limit), spread over both nodes: the
    // next attempt is refused on either.
    for i in 0..5 {
        let node = if i % 2 == 0 { &a } else { &b };
        let (status, _, _) = node
            .password_attempt(&first_party, "wrong password!", None)
            .await;
        assert_eq!(status, 400, "attempt {i}");
    }
    for node in [&a, &b] {
        let (status, retry, _) = node.password_attempt(&first_party, PASSWORD, None).await;
        assert_eq!(status, 429, "limited across nodes");
        assert!(retry.is_some());
    }
}

/// REL-07 across nodes: a key rotation made on the shared keys directory is published by both nodes within
/// their poll interval (1 s here), and a token signed with the new key on A verifies on B.
#[tokio::test]
async fn a_key_rotation_reaches_the_other_node_within_its_poll_interval() {
    if !shared_state() {
        return;
    }
    let (a, _) = spawn_code_flow_app().await;
    let b = a.second_node().await;
    let service = a.create_client(&[
        "--grant-type",
        "client_credentials",
        "--scope",
        "users:read",
    ]);
    let rotated = a.env.cli(&["keys", "rotate"], None).json();
    let kid = s(&rotated, "kid");
    let started = Instant::now();
    loop {
        let jwks: Value = b
            .http
            .get(format!("{}/.well-known/jwks.json", b.address))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if jwks.to_string().contains(&kid) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "B publishes the new key: {jwks}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A signs with the new key once it has seen it; B verifies that token.
    let started = Instant::now();
    loop {
        let token = a.client_token(&service).await;
        let header = jsonwebtoken::decode_header(&token).unwrap();
        if header.kid.as_deref() == Some(kid.as_str()) {
            let (status, _, body) = json_of(
                b.post_to(
                    "/introspect",
                    Some((&service.id, &service.secret)),
                    &[("token", &token)],
                )
                .await,
            )
            .await;
            assert_eq!(
                (status, body["active"].as_bool()),
                (200, Some(true)),
                "{body}"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "A signs with the new key"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
