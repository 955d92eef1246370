//! The token endpoint: client authentication, client_credentials and password grants, errors.

use crate::helpers::{Client, json_of, spawn_app};
use base64::Engine;

#[tokio::test]
async fn client_credentials_grant_works_with_basic_and_post_sec_27() {
    let app = spawn_app().await;
    let c = app.create_client(&[
        "--grant-type",
        "client_credentials",
        "--scope",
        "users:read",
        "--scope",
        "admin",
    ]);
    let (status, headers, body) = json_of(
        app.post_token(
            Some((&c.id, &c.secret)),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "users:read"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["pragma"], "no-cache");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "users:read");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());

    let token = body["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let claims = app.verified_claims(token, &app.address).await;
    assert_eq!(claims["sub"], c.id.as_str());
    assert_eq!(claims["client_id"], c.id.as_str());
    assert_eq!(claims["scope"], "users:read");
    for claim in ["iss", "aud", "exp", "iat", "jti"] {
        assert!(claims.get(claim).is_some(), "{claim}");
    }

    let (status, _, body) = json_of(
        app.post_token(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &c.id),
                ("client_secret", &c.secret),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "client_secret_post");
    assert_eq!(
        body["scope"], "admin users:read",
        "all allowed scopes when none are asked for"
    );
}

/// SEC-25: failures are uniform; one method per request; GET is not allowed.
#[tokio::test]
async fn client_authentication_failures_are_uniform_sec_25() {
    let app = spawn_app().await;
    let c = app.create_client(&["--grant-type", "client_credentials"]);
    let form = [("grant_type", "client_credentials")];

    let (status, headers, wrong) =
        json_of(app.post_token(Some((&c.id, "wrong")), &form).await).await;
    assert_eq!(status, 401);
    assert_eq!(wrong["error"], "invalid_client");
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    let (status, _, unknown) = json_of(
        app.post_token(Some(("no-such-client", "wrong")), &form)
            .await,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        unknown, wrong,
        "unknown client and wrong secret look the same"
    );

    let (status, headers, _) = json_of(
        app.post_token(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &c.id),
                ("client_secret", "x"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        headers.get("www-authenticate").is_none(),
        "no Basic challenge when Basic was not tried"
    );

    let (status, _, body) = json_of(
        app.post_token(
            Some((&c.id, &c.secret)),
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", &c.secret),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "two methods"
    );

    let (status, _, body) = json_of(
        app.post_token(
            None,
            &[("grant_type", "client_credentials"), ("client_id", &c.id)],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "a confidential client without its secret"
    );

    let (status, _, _) = json_of(app.post_token(None, &form).await).await;
    assert_eq!(status, 401, "no client at all");

    let get = app.http.get(app.url("/token")).send().await.unwrap();
    assert_eq!(get.status(), 405);
}

#[tokio::test]
async fn grant_and_scope_errors() {
    let app = spawn_app().await;
    let cc = app.create_client(&[
        "--grant-type",
        "client_credentials",
        "--scope",
        "users:read",
    ]);
    let web = app.create_client(&["--redirect-uri", "https://rp.test/cb"]);
    type Case<'a> = (&'a Client, Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            &web,
            vec![("grant_type", "client_credentials")],
            400,
            "unauthorized_client",
        ),
        (
            &cc,
            vec![("grant_type", "implicit")],
            400,
            "unsupported_grant_type",
        ),
        (&cc, vec![], 400, "invalid_request"),
        (
            &cc,
            vec![("grant_type", "client_credentials"), ("scope", "admin")],
            400,
            "invalid_scope",
        ),
        (
            &cc,
            vec![
                ("grant_type", "client_credentials"),
                ("scope", "no-such-scope"),
            ],
            400,
            "invalid_scope",
        ),
        (
            &cc,
            vec![
                ("grant_type", "client_credentials"),
                ("grant_type", "client_credentials"),
            ],
            400,
            "invalid_request",
        ),
    ];
    for (client, form, status, error) in cases {
        let (got, headers, body) = json_of(
            app.post_token(Some((&client.id, &client.secret)), &form)
                .await,
        )
        .await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(error)),
            "{form:?}: {body}"
        );
        assert!(body["error_description"].is_string());
        assert_eq!(headers["cache-control"], "no-store");
    }
}

#[tokio::test]
async fn non_form_and_oversized_bodies_are_invalid_requests() {
    let app = spawn_app().await;
    let c = app.create_client(&["--grant-type", "client_credentials"]);
    let json = app
        .http
        .post(app.url("/token"))
        .basic_auth(&c.id, Some(&c.secret))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(json).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );

    let big = format!(
        "grant_type=client_credentials&pad={}",
        "x".repeat(64 * 1024)
    );
    let resp = app
        .http
        .post(app.url("/token"))
        .basic_auth(&c.id, Some(&c.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(resp).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (413, Some("invalid_request"))
    );

    let garbage = app
        .http
        .post(app.url("/token"))
        .header("authorization", "Basic !!!notbase64")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 401);
}

#[tokio::test]
async fn password_grant_issues_access_and_id_tokens() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", "correct horse");
    let c = app.create_client(&[
        "--grant-type",
        "password",
        "--scope",
        "openid",
        "--scope",
        "email",
        "--scope",
        "profile",
        "--scope",
        "users:read",
    ]);
    let form = [
        ("grant_type", "password"),
        ("username", "Alice@Example.com"),
        ("password", "correct horse"),
        ("scope", "openid email profile"),
    ];
    let (status, _, body) = json_of(app.post_token(Some((&c.id, &c.secret)), &form).await).await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().unwrap();
    let claims = app.verified_claims(access, &app.address).await;
    assert_eq!(claims["scope"], "email openid profile");
    assert!(
        claims["sst"].is_string(),
        "the security stamp travels in the token"
    );
    let id_token = body["id_token"].as_str().unwrap();
    let id = app.verified_claims(id_token, &c.id).await;
    assert_eq!(id["sub"], claims["sub"]);
    assert_eq!(id["azp"], c.id.as_str());
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["name"], "Test User");
    assert!(id["auth_time"].is_i64());
    use sha2::Digest;
    let half = &sha2::Sha256::digest(access.as_bytes())[..16];
    assert_eq!(
        id["at_hash"],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(half)
    );
    assert_ne!(
        jsonwebtoken::decode_header(id_token)
            .unwrap()
            .typ
            .as_deref(),
        Some("at+jwt")
    );
}

#[tokio::test]
async fn password_grant_failures_are_indistinguishable() {
    let app = spawn_app().await;
    app.create_user("bob@example.com", "right password");
    app.create_user("off@example.com", "right password");
    app.env
        .cli(&["user", "disable", "--email", "off@example.com"], None)
        .json();
    let c = app.create_client(&["--grant-type", "password", "--scope", "openid"]);
    let mut bodies = Vec::new();
    for (user, pass) in [
        ("bob@example.com", "wrong password"),
        ("nobody@example.com", "right password"),
        ("off@example.com", "right password"),
        ("not-an-email", "x"),
    ] {
        let (status, _, body) = json_of(
            app.post_token(
                Some((&c.id, &c.secret)),
                &[
                    ("grant_type", "password"),
                    ("username", user),
                    ("password", pass),
                ],
            )
            .await,
        )
        .await;
        assert_eq!(status, 400, "{user}");
        bodies.push(body);
    }
    assert!(bodies.iter().all(|b| *b == bodies[0]), "{bodies:?}");
    assert_eq!(bodies[0]["error"], "invalid_grant");

    let missing = app
        .post_token(
            Some((&c.id, &c.secret)),
            &[("grant_type", "password"), ("username", "bob@example.com")],
        )
        .await;
    assert_eq!(json_of(missing).await.2["error"], "invalid_request");

    let no_grant = app.create_client(&["--grant-type", "client_credentials"]);
    let (_, _, body) = json_of(
        app.post_token(
            Some((&no_grant.id, &no_grant.secret)),
            &[
                ("grant_type", "password"),
                ("username", "bob@example.com"),
                ("password", "right password"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(body["error"], "unauthorized_client");
}

/// SEC-58: long passwords are never truncated, case matters, Unicode is normalized (NFKC: a
/// password set with a composed accent signs in when typed decomposed, and the other way).
#[tokio::test]
async fn sec_58_long_unicode_and_case_sensitive_passwords() {
    let app = spawn_app().await;
    let c = app.create_client(&["--grant-type", "password", "--scope", "openid"]);
    let sign_in = |email: &'static str, password: String| {
        let app = &app;
        let c = &c;
        async move {
            let form = [
                ("grant_type", "password"),
                ("username", email),
                ("password", password.as_str()),
            ];
            let resp = app.post_token(Some((&c.id, &c.secret)), &form).await;
            resp.status().as_u16()
        }
    };
    // 100 characters; the last one changed is another password (no 72-byte truncation).
    let long: String = "plum dumplings need patience and cinnamon; ".repeat(3)[..99].to_owned();
    let long = format!("{long}x");
    assert_eq!(long.chars().count(), 100);
    app.create_user("long@example.com", &long);
    assert_eq!(sign_in("long@example.com", long.clone()).await, 200);
    let changed = format!("{}y", &long[..99]);
    assert_eq!(sign_in("long@example.com", changed).await, 400);
    // Case is kept.
    app.create_user("case@example.com", "Tangerine Orbit Lantern");
    assert_eq!(
        sign_in("case@example.com", "tangerine orbit lantern".into()).await,
        400
    );
    assert_eq!(
        sign_in("case@example.com", "Tangerine Orbit Lantern".into()).await,
        200
    );
    // Set composed (NFC), typed decomposed (NFD), and the other way round; emoji kept.
    app.create_user(
        "nfc@example.com",
        "caf\u{e9} cr\u{e8}me \u{1f409} br\u{fb}l\u{e9}e",
    );
    assert_eq!(
        sign_in(
            "nfc@example.com",
            "cafe\u{301} cre\u{300}me \u{1f409} bru\u{302}le\u{301}e".into()
        )
        .await,
        200
    );
    // 90 accented characters typed decomposed are 180 code points: still not "too long".
    let accented = "\u{e9}".repeat(90) + " lantern9";
    app.create_user("long-nfc@example.com", &accented);
    let decomposed = "e\u{301}".repeat(90) + " lantern9";
    assert!(decomposed.chars().count() > 128);
    assert_eq!(sign_in("long-nfc@example.com", decomposed).await, 200);
    app.create_user("nfd@example.com", "na\u{308}ive re\u{301}sume\u{301} zebra");
    assert_eq!(
        sign_in(
            "nfd@example.com",
            "n\u{e4}ive r\u{e9}sum\u{e9} zebra".into()
        )
        .await,
        200
    );
}
