//! UserInfo: claims by scope, RFC 6750 errors, and the JWT attack battery (SEC-39, SEC-40,
//! SEC-41) against the endpoint that consumes irongate's access tokens.

use crate::helpers::{ATTACKER_KEY, FIXTURE_KEY, TestApp, claims_of, json_of, spawn_app};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

async fn get(app: &TestApp, token: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    json_of(
        app.http
            .get(app.url("/userinfo"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn challenge(headers: &reqwest::header::HeaderMap) -> String {
    headers["www-authenticate"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn sec_41_userinfo_get_and_post_return_claims_by_scope() {
    let app = spawn_app().await;
    let (c, user) = app.password_client_with_alice();
    let body = app.password_login(&c, "openid email profile").await;
    let token = body["access_token"].as_str().unwrap();
    let id_sub = claims_of(body["id_token"].as_str().unwrap())["sub"].clone();

    let (status, headers, info) = get(&app, token).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(info["sub"], user.as_str());
    assert_eq!(info["sub"], id_sub, "the same sub as the ID token");
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["email_verified"], false);
    assert_eq!(info["name"], "Test User");

    let (status, _, posted) = json_of(
        app.http
            .post(app.url("/userinfo"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &posted), (200, &info), "POST with the header");
    let (status, _, in_body) = json_of(
        app.http
            .post(app.url("/userinfo"))
            .form(&[("access_token", token)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, &in_body),
        (200, &info),
        "POST with the token in the body"
    );

    // Only what the scopes grant (SEC-29).
    let narrow = app.password_login(&c, "openid").await;
    let (status, _, info) = get(&app, narrow["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(info, json!({ "sub": user }));
}

#[tokio::test]
async fn sec_41_userinfo_refusals_follow_rfc_6750() {
    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    let body = app.password_login(&c, "openid email").await;
    let token = body["access_token"].as_str().unwrap();

    // No token: 401 with a bare challenge.
    let resp = app.http.get(app.url("/userinfo")).send().await.unwrap();
    let (status, headers, _) = json_of(resp).await;
    assert_eq!(status, 401);
    assert!(challenge(&headers).starts_with("Bearer"));
    assert!(!challenge(&headers).contains("error="));
    // A token in the query string is not accepted (RFC 9700 §4.3.2).
    let resp = app
        .http
        .get(app.url(&format!("/userinfo?access_token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Header and body at once.
    let resp = app
        .http
        .post(app.url("/userinfo"))
        .bearer_auth(token)
        .form(&[("access_token", token)])
        .send()
        .await
        .unwrap();
    let (status, _, err) = json_of(resp).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // Wrong method.
    let resp = app.http.delete(app.url("/userinfo")).send().await.unwrap();
    assert_eq!(resp.status(), 405);

    // A user token without openid, and a client_credentials token: 403 insufficient_scope.
    let no_openid = app.password_login(&c, "email").await;
    let service = app.create_client(&[
        "--grant-type",
        "client_credentials",
        "--scope",
        "openid",
        "--scope",
        "users:read",
    ]);
    let cc = app.client_token(&service).await;
    for token in [no_openid["access_token"].as_str().unwrap(), cc.as_str()] {
        let (status, headers, err) = get(&app, token).await;
        assert_eq!(status, 403, "{err}");
        assert_eq!(err["error"], "insufficient_scope");
        let challenge = challenge(&headers);
        assert!(
            challenge.contains("error=\"insufficient_scope\""),
            "{challenge}"
        );
        assert!(challenge.contains("scope=\"openid\""), "{challenge}");
    }
}

/// Re-signs `claims` with `header` using the fixture key (a key the server publishes).
fn signed(header: &Header, claims: &Value) -> String {
    let key = EncodingKey::from_rsa_pem(FIXTURE_KEY.as_bytes()).unwrap();
    jsonwebtoken::encode(header, claims, &key).unwrap()
}

fn with(claims: &Value, changes: Value) -> Value {
    let mut c = claims.clone();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

fn unsigned(alg: &str, claims: &Value) -> String {
    let header = json!({ "alg": alg, "typ": "at+jwt" });
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

fn hmac_with(secret: &[u8], kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    header.typ = Some("at+jwt".into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

/// SEC-39 / SEC-40: every forged, altered, mistyped or stale token is 401 `invalid_token`.
#[tokio::test]
async fn forged_altered_or_stale_tokens_are_invalid_token_at_userinfo_sec_39() {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};

    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    let body = app.password_login(&c, "openid email").await;
    let good = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(get(&app, &good).await.0, 200);
    let claims = claims_of(&good);
    let kid = jsonwebtoken::decode_header(&good).unwrap().kid.unwrap();
    let now = chrono::Utc::now().timestamp();
    let at_header = || {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(kid.clone());
        h.typ = Some("at+jwt".into());
        h
    };

    let public_pem = rsa::PrivateKey::from_pkcs1_pem(FIXTURE_KEY)
        .unwrap()
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let jwks = app.jwks().await;
    let jwk = jwks["keys"][0].to_string();

    let mut cases: Vec<(&str, String)> = vec![
        ("alg none", unsigned("none", &claims)),
        ("alg nOnE", unsigned("nOnE", &claims)),
        (
            "HS256 with the public key PEM as secret",
            hmac_with(public_pem.as_bytes(), &kid, &claims),
        ),
        (
            "HS256 with the public JWK as secret",
            hmac_with(jwk.as_bytes(), &kid, &claims),
        ),
    ];
    // The payload changed after signing.
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] =
        URL_SAFE_NO_PAD.encode(with(&claims, json!({"scope": "openid email admin"})).to_string());
    cases.push(("modified payload", parts.join(".")));
    // Signed by a key irongate never published, with kid tricks and key-location headers.
    let attacker = EncodingKey::from_rsa_pem(ATTACKER_KEY.as_bytes()).unwrap();
    for (name, kid_value) in [
        ("unknown kid", "attacker-key"),
        ("path traversal kid", "../../../../dev/null"),
        ("SQL kid", "' OR 1=1--"),
        ("published kid, other key", kid.as_str()),
    ] {
        let mut h = at_header();
        h.kid = Some(kid_value.to_owned());
        h.jku = Some("http://127.0.0.1:9/jwks.json".into());
        h.x5u = Some("http://127.0.0.1:9/cert.pem".into());
        cases.push((name, jsonwebtoken::encode(&h, &claims, &attacker).unwrap()));
    }
    let mut no_kid = at_header();
    no_kid.kid = None;
    cases.push(("no kid", signed(&no_kid, &claims)));
    // Properly signed by a published key, but wrong in what it says.
    let mut id_typed = at_header();
    id_typed.typ = Some("JWT".into());
    cases.push((
        "JWT typ (an ID token is not an access token)",
        signed(&id_typed, &claims),
    ));
    cases.push((
        "the real ID token",
        body["id_token"].as_str().unwrap().to_owned(),
    ));
    for (name, changes) in [
        ("expired", json!({"exp": now - 1})),
        ("expires now (no leeway)", json!({"exp": now})),
        ("no exp", json!({"exp": null})),
        ("nbf in an hour", json!({"nbf": now + 3600})),
        ("other audience", json!({"aud": c.id})),
        (
            "other issuer",
            json!({"iss": format!("{}.evil", app.address)}),
        ),
        ("no jti", json!({"jti": null})),
        (
            "other security stamp",
            json!({"sst": "AAAAAAAAAAAAAAAAAAAAAA"}),
        ),
        ("unknown user", json!({"sub": "nobody"})),
    ] {
        cases.push((name, signed(&at_header(), &with(&claims, changes))));
    }
    cases.push((
        "refresh token as bearer",
        body["refresh_token"].as_str().unwrap().to_owned(),
    ));
    cases.push(("garbage", "not-a-token".into()));

    for (name, token) in &cases {
        let (status, headers, err) = get(&app, token).await;
        assert_eq!(status, 401, "{name}: {err}");
        assert_eq!(err["error"], "invalid_token", "{name}");
        assert!(
            challenge(&headers).contains("error=\"invalid_token\""),
            "{name}"
        );
    }
    // The untouched token still works: the battery proves the checks, not a broken endpoint.
    assert_eq!(get(&app, &good).await.0, 200);
}

/// Every body goes through the one bounded reader: a form body over 16 KiB at userinfo is a
/// 413 with the Bearer challenge (it used to be read up to 256 KiB), and nothing else happens.
#[tokio::test]
async fn userinfo_reads_at_most_16_kib_of_body_sec_62() {
    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    let login = app.password_login(&c, "openid").await;
    let token = login["access_token"].as_str().unwrap();
    let padding = "x".repeat(20 * 1024);
    let resp = app
        .http
        .post(app.url("/userinfo"))
        .form(&[("access_token", token), ("padding", padding.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("error=\"invalid_request\""),
        "{challenge}"
    );
    // Under the bound the same form is answered.
    let resp = app
        .http
        .post(app.url("/userinfo"))
        .form(&[("access_token", token), ("padding", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
