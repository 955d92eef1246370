//! The token endpoint's authorization_code grant (SEC-16..SEC-23). Codes are stored here the way
//! the authorization endpoint (next step) will store them; the exchange is over HTTP.

use crate::helpers::{
    CHALLENGE, Client, REDIRECT, TestApp, VERIFIER, claims_of, json_of, spawn_app,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use irongate::store::AuthorizationCode;
use serde_json::Value;

struct Code<'a> {
    client: &'a Client,
    user: &'a str,
    challenge: Option<&'a str>,
    explicit_redirect: bool,
    lifetime: i64,
}

async fn store_code(app: &TestApp, spec: Code<'_>) -> String {
    let code = irongate::auth::secrets::random_token(32);
    let now = chrono::Utc::now().timestamp();
    let row = AuthorizationCode {
        code_hash: irongate::auth::secrets::hash_secret(&code),
        client_id: spec.client.id.clone(),
        user_id: spec.user.to_owned(),
        redirect_uri: REDIRECT.into(),
        redirect_uri_explicit: spec.explicit_redirect,
        scope: "openid email".into(),
        code_challenge: spec.challenge.map(str::to_owned),
        nonce: Some("n-0S6_WzA2Mj".into()),
        auth_time: now - 5,
        session_id: Some("session-1".into()),
        created_at: now,
        expires_at: now + spec.lifetime,
        used_at: None,
        family_id: None,
        access_jti: None,
        access_exp: None,
        org_id: None,
    };
    // The browser session the code names, alive (a code from an ended session is refused).
    let session = irongate::store::Session {
        id_hash: irongate::auth::secrets::hash_secret("session-1-cookie"),
        sid: "session-1".into(),
        user_id: Some(spec.user.to_owned()),
        stamp_digest: None,
        auth_time: Some(now - 5),
        csrf_secret: "csrf".into(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + 3600,
    };
    app.state
        .store
        .run(move |c| {
            if !irongate::store::session_live_by_sid(c, "session-1", now)? {
                irongate::store::replace_session(c, None, &session)?;
            }
            irongate::store::insert_authorization_code(c, &row)
        })
        .await
        .unwrap();
    code
}

fn confidential(app: &TestApp) -> Client {
    app.create_client(&["--redirect-uri", REDIRECT])
}

fn code_for<'a>(client: &'a Client, user: &'a str) -> Code<'a> {
    Code {
        client,
        user,
        challenge: Some(CHALLENGE),
        explicit_redirect: true,
        lifetime: 60,
    }
}

async fn exchange(app: &TestApp, c: &Client, code: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code)];
    form.extend_from_slice(extra);
    let basic = (!c.secret.is_empty()).then_some((c.id.as_str(), c.secret.as_str()));
    if basic.is_none() {
        form.push(("client_id", &c.id));
    }
    let (status, headers, body) = json_of(app.post_token(basic, &form).await).await;
    assert_eq!(headers["cache-control"], "no-store");
    (status, body)
}

fn good() -> [(&'static str, &'static str); 2] {
    [("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)]
}

#[tokio::test]
async fn sec_16_code_exchange_with_pkce_issues_all_tokens() {
    let app = spawn_app().await;
    let c = confidential(&app);
    let user = app.create_user("alice@example.com", "correct horse battery");
    let code = store_code(&app, code_for(&c, &user)).await;
    let (status, body) = exchange(&app, &c, &code, &good()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "email openid");
    assert!(body["refresh_token"].is_string());
    let id = claims_of(body["id_token"].as_str().unwrap());
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id["sid"], "session-1");
    assert_eq!(id["azp"], c.id.as_str());
    assert_eq!(id["aud"], c.id.as_str());
    assert_eq!(id["sub"], user.as_str());
    assert!(id["auth_time"].as_i64().unwrap() < id["iat"].as_i64().unwrap());
    assert_eq!(
        app.userinfo_status(body["access_token"].as_str().unwrap())
            .await,
        200
    );

    // A public client authenticates with its client_id alone and must use PKCE.
    let public = app.create_client(&["--public", "--redirect-uri", REDIRECT]);
    let code = store_code(&app, code_for(&public, &user)).await;
    assert_eq!(exchange(&app, &public, &code, &good()).await.0, 200);
    let code = store_code(
        &app,
        Code {
            challenge: None,
            ..code_for(&public, &user)
        },
    )
    .await;
    let (status, err) = exchange(&app, &public, &code, &[("redirect_uri", REDIRECT)]).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn sec_19_a_replayed_code_revokes_what_it_issued() {
    let app = spawn_app().await;
    let c = confidential(&app);
    let user = app.create_user("alice@example.com", "correct horse battery");
    let code = store_code(&app, code_for(&c, &user)).await;
    let (_, first) = exchange(&app, &c, &code, &good()).await;
    let (status, err) = exchange(&app, &c, &code, &good()).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        app.userinfo_status(first["access_token"].as_str().unwrap())
            .await,
        401
    );
    let (status, _) = app
        .refresh(&c, first["refresh_token"].as_str().unwrap(), None)
        .await;
    assert_eq!(status, 400);
}

/// SEC-20: 50 concurrent redemptions of one code: exactly one claims it, at most one
/// refresh-token family exists afterwards (the replays revoke it, they never start another),
/// and whatever the claim issued is revoked by the replays (SEC-19), so no usable token
/// remains.
#[tokio::test]
async fn sec_20_concurrent_redemptions_leave_no_usable_token() {
    use diesel::prelude::*;
    use irongate::store::schema::refresh_tokens;
    let app = spawn_app().await;
    let c = confidential(&app);
    let user = app.create_user("alice@example.com", "correct horse battery");
    let code = store_code(&app, code_for(&c, &user)).await;
    let form = good();
    let results =
        futures_util::future::join_all((0..50).map(|_| exchange(&app, &c, &code, &form))).await;
    let successes: Vec<&Value> = results
        .iter()
        .filter(|r| r.0 == 200)
        .map(|r| &r.1)
        .collect();
    assert!(successes.len() <= 1, "{results:?}");
    for issued in successes {
        let access = issued["access_token"].as_str().unwrap();
        assert_eq!(
            app.userinfo_status(access).await,
            401,
            "revoked by the replays"
        );
        let refresh = issued["refresh_token"].as_str().unwrap();
        assert_eq!(app.refresh(&c, refresh, None).await.0, 400);
    }
    let client_id = c.id.clone();
    let families: std::collections::HashSet<String> = app
        .state
        .store
        .run(move |conn| {
            Ok(refresh_tokens::table
                .filter(refresh_tokens::client_id.eq(client_id))
                .select(refresh_tokens::family_id)
                .load::<String>(conn)?
                .into_iter()
                .collect())
        })
        .await
        .unwrap();
    assert!(families.len() <= 1, "{families:?}");
}

/// SEC-19 (issue 10, finding 3): an intercepted code redeemed at the same moment as the real
/// one. Thirty times over, two simultaneous redemptions: whichever claims the code, what it
/// issues is revoked — the loser's replay finds it recorded with the claim, never missing.
#[tokio::test]
async fn sec_19_a_replay_at_the_same_moment_revokes_what_the_claim_issues() {
    let app = spawn_app().await;
    let c = confidential(&app);
    let user = app.create_user("alice@example.com", "correct horse battery");
    let form = good();
    // A client without refresh tokens too: its winner re-checks before it answers, since the ID
    // token it would return cannot be revoked.
    let without_refresh = app.create_client(&[
        "--redirect-uri",
        REDIRECT,
        "--grant-type",
        "authorization_code",
    ]);
    for round in 0..30 {
        let c = if round % 3 == 2 { &without_refresh } else { &c };
        let code = store_code(&app, code_for(c, &user)).await;
        let (a, b) = tokio::join!(
            exchange(&app, c, &code, &form),
            exchange(&app, c, &code, &form)
        );
        assert!(a.0 != 200 || b.0 != 200, "round {round}: two successes");
        for (status, issued) in [a, b] {
            if status != 200 {
                assert_eq!(issued["error"], "invalid_grant", "round {round}");
                continue;
            }
            let access = issued["access_token"].as_str().unwrap();
            assert_eq!(app.userinfo_status(access).await, 401, "round {round}");
            if let Some(refresh) = issued["refresh_token"].as_str() {
                assert_eq!(app.refresh(c, refresh, None).await.0, 400, "round {round}");
            }
        }
    }
}

#[tokio::test]
async fn sec_17_sec_18_sec_21_sec_22_sec_23_bad_exchanges_fail() {
    let app = spawn_app().await;
    let c = confidential(&app);
    let other = confidential(&app);
    let user = app.create_user("alice@example.com", "correct horse battery");
    let wrong_verifier = "x".repeat(43);
    let no_challenge = || Code {
        challenge: None,
        ..code_for(&c, &user)
    };
    type Case<'a> = (
        &'a str,
        Code<'a>,
        &'a Client,
        Vec<(&'a str, &'a str)>,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "SEC-17 wrong verifier",
            code_for(&c, &user),
            &c,
            vec![
                ("redirect_uri", REDIRECT),
                ("code_verifier", &wrong_verifier),
            ],
            "invalid_grant",
        ),
        (
            "SEC-17 missing verifier",
            code_for(&c, &user),
            &c,
            vec![("redirect_uri", REDIRECT)],
            "invalid_grant",
        ),
        (
            "SEC-17 malformed verifier",
            code_for(&c, &user),
            &c,
            vec![("redirect_uri", REDIRECT), ("code_verifier", "short")],
            "invalid_grant",
        ),
        (
            "SEC-18 verifier for a code without challenge",
            no_challenge(),
            &c,
            good().to_vec(),
            "invalid_grant",
        ),
        (
            "SEC-21 another client's code",
            code_for(&c, &user),
            &other,
            good().to_vec(),
            "invalid_grant",
        ),
        (
            "SEC-22 other redirect_uri",
            code_for(&c, &user),
            &c,
            vec![
                ("redirect_uri", "https://rp.test/cb2"),
                ("code_verifier", VERIFIER),
            ],
            "invalid_grant",
        ),
        (
            "SEC-22 redirect_uri missing",
            code_for(&c, &user),
            &c,
            vec![("code_verifier", VERIFIER)],
            "invalid_request",
        ),
        (
            "SEC-23 expired",
            Code {
                lifetime: -1,
                ..code_for(&c, &user)
            },
            &c,
            good().to_vec(),
            "invalid_grant",
        ),
    ];
    for (name, spec, client, form, error) in cases {
        let code = store_code(&app, spec).await;
        let (status, body) = exchange(&app, client, &code, &form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some(error)),
            "{name}"
        );
    }
    for garbage in ["garbage", &"x".repeat(3000)] {
        let (status, body) = exchange(&app, &c, garbage, &good()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
    }
    // A code without a challenge, exchanged without a verifier by a confidential client.
    let code = store_code(&app, no_challenge()).await;
    let (status, body) = exchange(&app, &c, &code, &[("redirect_uri", REDIRECT)]).await;
    assert_eq!(status, 200, "{body}");
    // redirect_uri may be left out when the authorization request left it out.
    let code = store_code(
        &app,
        Code {
            explicit_redirect: false,
            ..code_for(&c, &user)
        },
    )
    .await;
    assert_eq!(
        exchange(&app, &c, &code, &[("code_verifier", VERIFIER)])
            .await
            .0,
        200
    );
}

/// SEC-17: a verifier outside RFC 7636's ABNF (42 characters; `+/=` characters) fails even when
/// its S256 challenge matches. SEC-17 / SEC-21 policy: the code is spent the moment it is
/// presented, so after a failed exchange (wrong verifier, another client) the right client
/// with the right verifier gets `invalid_grant` too.
#[tokio::test]
async fn sec_17_sec_21_malformed_verifiers_and_failed_exchanges_spend_the_code() {
    use sha2::Digest;
    let app = spawn_app().await;
    let c = confidential(&app);
    let other = confidential(&app);
    let user = app.create_user("alice@example.com", "correct horse battery");
    let challenge_of = |v: &str| URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(v.as_bytes()));
    for verifier in [
        "a".repeat(42),
        format!("{}+/=", "a".repeat(40)),
        "a".repeat(129),
    ] {
        let challenge = challenge_of(&verifier);
        let code = store_code(
            &app,
            Code {
                challenge: Some(&challenge),
                ..code_for(&c, &user)
            },
        )
        .await;
        let (status, body) = exchange(
            &app,
            &c,
            &code,
            &[("redirect_uri", REDIRECT), ("code_verifier", &verifier)],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{verifier}"
        );
    }
    let wrong_verifier = "x".repeat(43);
    let wrong: [(&Client, Vec<(&str, &str)>); 2] = [
        (
            &c,
            vec![
                ("redirect_uri", REDIRECT),
                ("code_verifier", &wrong_verifier),
            ],
        ),
        (&other, good().to_vec()),
    ];
    for (client, form) in wrong {
        let code = store_code(&app, code_for(&c, &user)).await;
        let (status, _) = exchange(&app, client, &code, &form).await;
        assert_eq!(status, 400);
        let (status, body) = exchange(&app, &c, &code, &good()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "spent after a failed exchange"
        );
    }
}
