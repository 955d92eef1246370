//! irongate-verify against a real irongate (CONTRACT "irongate-verify", checklist section E):
//! the happy path, every rejection, key rotation, the JWKS endpoint going away, a flood of
//! made-up kids.

use crate::helpers::*;
use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use irongate_verify::{Rejection, Verifier};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A server with Alice, and her access token from the password grant (and the whole answer).
async fn alice_with_token() -> (TestApp, String, Value) {
    let app = spawn_app().await;
    let (client, _) = app.password_client_with_alice();
    let body = app.password_login(&client, "openid users:read").await;
    let token = body["access_token"].as_str().unwrap().to_owned();
    (app, token, body)
}

/// `claims` signed with the server's own (fixture) key under its kid, with `typ`.
fn signed(app_kid: &str, typ: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(app_kid.to_owned());
    header.typ = Some(typ.to_owned());
    let key = EncodingKey::from_rsa_pem(FIXTURE_KEY.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

async fn verifier(app: &TestApp) -> Verifier {
    Verifier::builder(app.address.clone(), app.address.clone())
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_real_token_verifies_and_names_its_caller() {
    let (app, token, _) = alice_with_token().await;
    let v = verifier(&app).await;
    let caller = v.verify(&token).await.unwrap();
    let claims = claims_of(&token);
    assert_eq!(caller.sub, claims["sub"].as_str().unwrap());
    assert!(caller.has_scope("users:read") && caller.has_scope("openid"));
    assert_eq!(caller.jti, claims["jti"].as_str().unwrap());
    assert_eq!(v.jwks_fetches(), 1);
    // Parsed keys are kept: more verifications fetch nothing.
    for _ in 0..10 {
        v.verify(&token).await.unwrap();
    }
    assert_eq!(v.jwks_fetches(), 1);
}

/// Every way a token can be wrong is 401 `invalid_token` downstream too: SEC-38 (an ID token
/// is not an access token), SEC-39 (the JWT attack battery: `alg: none`, HS256 keyed with the
/// public key, unknown `kid`, tampering, expiry, `nbf`, issuer, audience), SEC-40 (token-type
/// confusion).
#[tokio::test]
async fn every_wrong_token_is_refused() {
    let (app, token, body) = alice_with_token().await;
    let v = verifier(&app).await;
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    let good = claims_of(&token);
    let now = chrono::Utc::now().timestamp();
    let with = |change: Value| {
        let mut c = good.clone();
        for (k, val) in change.as_object().unwrap() {
            c[k] = val.clone();
        }
        c
    };
    let public_n = app.jwks().await["keys"][0]["n"]
        .as_str()
        .unwrap()
        .to_owned();
    let hs256 = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.clone());
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(
            &header,
            &good,
            &EncodingKey::from_secret(public_n.as_bytes()),
        )
        .unwrap()
    };
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#),
        token.split('.').nth(1).unwrap()
    );
    let tampered = {
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(with(json!({"sub": "someone-else"})).to_string());
        parts.join(".")
    };
    let cases = [
        (
            "expired",
            signed(&kid, "at+jwt", &with(json!({"exp": now - 120}))),
        ),
        (
            "not yet valid",
            signed(&kid, "at+jwt", &with(json!({"nbf": now + 120}))),
        ),
        (
            "wrong iss",
            signed(&kid, "at+jwt", &with(json!({"iss": "https://evil.test"}))),
        ),
        (
            "wrong aud",
            signed(&kid, "at+jwt", &with(json!({"aud": "another-api"}))),
        ),
        (
            "an ID token",
            body["id_token"].as_str().unwrap_or("x").to_owned(),
        ),
        ("typ JWT", signed(&kid, "JWT", &good)),
        ("alg none", none),
        ("HS256 with the public key", hs256),
        ("unknown kid", signed("no-such-kid", "at+jwt", &good)),
        ("tampered payload", tampered),
        ("garbage", "not.a.token".to_owned()),
        ("garbage header", "%%%.eyJ9.sig".to_owned()),
        ("100 KB", "a".repeat(100 * 1024)),
        ("empty", String::new()),
    ];
    for (what, bad) in cases {
        match v.verify(&bad).await {
            Err(Rejection::InvalidToken(_)) => {}
            other => panic!("{what}: {other:?}"),
        }
    }
    // Within the leeway (30 s) an expiry is still good.
    assert!(
        v.verify(&signed(&kid, "at+jwt", &with(json!({"exp": now - 10}))))
            .await
            .is_ok()
    );
    assert!(v.verify(&token).await.is_ok());
}

/// A key rotated at irongate is picked up without a restart (the unknown kid is fetched).
#[tokio::test]
async fn a_key_rotation_is_picked_up_without_a_restart() {
    let (app, token, _) = alice_with_token().await;
    let v = verifier(&app).await;
    v.verify(&token).await.unwrap();
    app.env.cli(&["keys", "rotate"], None).json();
    let client = app.create_client(&["--grant-type", "client_credentials"]);
    let old_kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    let fresh = eventually(10, || {
        let (app, client, old_kid) = (&app, &client, old_kid.clone());
        async move {
            let t = app.client_token(client).await;
            jsonwebtoken::decode_header(&t).unwrap().kid.unwrap() != old_kid
        }
    })
    .await;
    assert!(fresh, "the server signs with the new key");
    let (status, _, body) = json_of(
        app.post_token(
            Some((&client.id, &client.secret)),
            &[("grant_type", "client_credentials")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let new_token = body["access_token"].as_str().unwrap();
    let caller = v.verify(new_token).await.unwrap();
    assert_eq!(caller.sub, client.id);
    assert!(
        v.verify(&token).await.is_ok(),
        "the old key is still published"
    );
    assert_eq!(v.jwks_fetches(), 2);
}

/// A JWKS endpoint that can be switched off, serving the real one's keys.
async fn switchable_jwks(app: &TestApp) -> (String, Arc<AtomicBool>) {
    let up = Arc::new(AtomicBool::new(true));
    let (flag, source) = (up.clone(), app.url("/.well-known/jwks.json"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/jwks",
        listener.local_addr().unwrap().port()
    );
    let server = HttpServer::new(move || {
        let (flag, source) = (flag.clone(), source.clone());
        App::new().route(
            "/jwks",
            web::get().to(move || {
                let (flag, source) = (flag.clone(), source.clone());
                async move {
                    if !flag.load(Ordering::SeqCst) {
                        return HttpResponse::ServiceUnavailable().finish();
                    }
                    let keys = reqwest::get(source).await.unwrap().text().await.unwrap();
                    HttpResponse::Ok()
                        .insert_header(("cache-control", "max-age=0"))
                        .content_type("application/json")
                        .body(keys)
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (url, up)
}

/// The JWKS endpoint down after a first load: tokens still verify with the keys held; down
/// before any load: every token is refused (fail closed, 503), until it is back.
#[tokio::test]
async fn a_jwks_outage_keeps_the_keys_held_and_refuses_before_any() {
    let (app, token, _) = alice_with_token().await;
    let (url, up) = switchable_jwks(&app).await;
    let v = Verifier::builder(app.address.clone(), app.address.clone())
        .jwks_uri(url.clone())
        .build()
        .await
        .unwrap();
    v.verify(&token).await.unwrap();
    up.store(false, Ordering::SeqCst);
    for _ in 0..3 {
        assert!(v.verify(&token).await.is_ok(), "keys held stay in use");
    }

    let cold = Verifier::builder(app.address.clone(), app.address.clone())
        .jwks_uri(url)
        .build()
        .await
        .unwrap();
    match cold.verify(&token).await {
        Err(Rejection::Unavailable(_)) => {}
        other => panic!("before any key: {other:?}"),
    }
    up.store(true, Ordering::SeqCst);
    // A failed first fetch is not tried again for 2 s (requests do not queue behind fetches).
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert!(cold.verify(&token).await.is_ok());
}

/// 1,000 tokens naming made-up kids cost one JWKS fetch (then one per 30 s at most).
#[tokio::test]
async fn a_flood_of_made_up_kids_costs_one_fetch() {
    let (app, token, _) = alice_with_token().await;
    let v = verifier(&app).await;
    v.verify(&token).await.unwrap();
    let before = v.jwks_fetches();
    let good = claims_of(&token);
    for i in 0..1000 {
        let forged = signed(&format!("made-up-{i}"), "at+jwt", &good);
        assert!(matches!(
            v.verify(&forged).await,
            Err(Rejection::InvalidToken(_))
        ));
    }
    assert_eq!(v.jwks_fetches() - before, 1);
}

/// The extractor over HTTP: the token from a configured cookie; headers it cannot use are
/// refusals (401 or 400), never a 500.
#[tokio::test]
async fn the_extractor_reads_a_cookie_and_refuses_odd_headers() {
    let (app, token, _) = alice_with_token().await;
    let v = Verifier::builder(app.address.clone(), app.address.clone())
        .cookie("access_token")
        .build()
        .await
        .unwrap();
    let v = web::Data::new(v);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let server = HttpServer::new(move || {
        App::new().app_data(v.clone()).route(
            "/me",
            web::get().to(|caller: irongate_verify::Caller| async move {
                HttpResponse::Ok().json(caller)
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    let http = reqwest::Client::new();
    let get = |name: &'static str, value: String| {
        http.get(format!("{base}/me")).header(name, value).send()
    };
    let by_cookie = get("cookie", format!("access_token={token}"))
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), 200);
    for (name, value, status) in [
        ("cookie", "access_token=garbage".to_owned(), 401),
        ("cookie", "other=x".to_owned(), 401),
        ("authorization", "Basic YTpi".to_owned(), 401),
        ("authorization", "Bearer".to_owned(), 400),
        ("authorization", "Bearer    ".to_owned(), 400),
        (
            "authorization",
            format!("Bearer {}", "x".repeat(20_000)),
            401,
        ),
        ("x-api-key", "igk_whatever".to_owned(), 401),
    ] {
        let resp = get(name, value.clone()).await.unwrap();
        assert_eq!(
            resp.status(),
            status,
            "{name}: {}",
            &value[..value.len().min(40)]
        );
        assert!(resp.headers().contains_key("www-authenticate"), "{name}");
    }
}
