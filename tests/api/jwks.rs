//! JWKS and signing keys: tokens verify with the published key through an independent path,
//! nothing private is published, rotation is picked up by running servers.

use crate::helpers::{TestApp, TestEnv, eventually, spawn_app, spawn_app_with};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

fn claims(app: &TestApp) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "iss": app.state.settings.server.issuer, "sub": "user-1", "aud": "rs", "iat": now, "exp": now + 60, "jti": uuid::Uuid::new_v4().to_string() })
}

fn validation(app: &TestApp) -> Validation {
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&["rs"]);
    v.set_issuer(&[app.state.settings.server.issuer.as_str()]);
    v
}

/// Verifies with a key built from the JWKS `n`/`e` members alone, as a resource server would.
fn verify_with_jwks(jwks: &Value, token: &str, validation: &Validation) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .ok_or("kid not published")?;
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .map_err(|e| e.to_string())?;
    jsonwebtoken::decode::<Value>(token, &key, validation)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn a_token_signed_by_the_server_verifies_with_the_published_key() {
    let app = spawn_app().await;
    let token = app.state.keys.sign("at+jwt", &claims(&app)).unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwks = app.jwks().await;
    let verified = verify_with_jwks(&jwks, &token, &validation(&app)).unwrap();
    assert_eq!(verified["sub"], "user-1");
    // The server's own verification path accepts it too.
    app.state
        .keys
        .verify::<Value>(&token, &validation(&app))
        .unwrap();
}

/// SEC-37: RS256 keys with unique kids, `use: sig`, and public members only.
#[tokio::test]
async fn sec_37_jwks_publishes_public_rsa_members_only() {
    let env = TestEnv::new();
    TestEnv::cli(&env, &["keys", "rotate"], None).json();
    let app = spawn_app_with(env, |_| {}).await;
    let jwks = app.jwks().await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let mut kids = std::collections::HashSet::new();
    for key in keys {
        let members: std::collections::BTreeSet<&str> = key
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            members,
            ["alg", "e", "kid", "kty", "n", "use"].into_iter().collect()
        );
        assert_eq!(
            (
                key["kty"].as_str(),
                key["use"].as_str(),
                key["alg"].as_str()
            ),
            (Some("RSA"), Some("sig"), Some("RS256"))
        );
        assert!(
            kids.insert(key["kid"].as_str().unwrap().to_owned()),
            "kids are unique"
        );
        // kid is the RFC 7638 thumbprint, as an independent implementation computes it.
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.clone()).unwrap();
        assert_eq!(
            key["kid"],
            jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
                .unwrap()
        );
        let n = base64_len(key["n"].as_str().unwrap());
        assert_eq!(n, 256, "RSA-2048 modulus");
    }
}

fn base64_len(s: &str) -> usize {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
        .len()
}

#[tokio::test]
async fn rotation_is_published_by_a_running_server_within_its_poll_interval() {
    let app = spawn_app().await;
    let old_kid = app.state.keys.active_kid();
    let old_token = app.state.keys.sign("at+jwt", &claims(&app)).unwrap();

    let rotated = app.env.cli(&["keys", "rotate"], None).json();
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);

    // key_poll_interval is 1 s in tests; the contract allows at most 30 s.
    let published = eventually(5, || {
        let app = &app;
        let new_kid = new_kid.clone();
        async move {
            app.jwks().await["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kid"] == new_kid.as_str())
        }
    })
    .await;
    assert!(published, "the new key is published without a restart");

    let jwks = app.jwks().await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(
        kids,
        [new_kid.as_str(), old_kid.as_str()],
        "both keys, the active one first"
    );

    let new_token = app.state.keys.sign("at+jwt", &claims(&app)).unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&new_token)
            .unwrap()
            .kid
            .as_deref(),
        Some(new_kid.as_str())
    );
    verify_with_jwks(&jwks, &new_token, &validation(&app)).unwrap();
    verify_with_jwks(&jwks, &old_token, &validation(&app))
        .expect("tokens of the old key still verify");
}

#[tokio::test]
async fn retired_keys_are_pruned_once_their_tokens_have_expired() {
    let app = spawn_app_with(TestEnv::new(), |s| s.tokens.access_ttl = 1).await;
    let old_kid = app.state.keys.active_kid();
    app.env
        .cli_with(
            &["keys", "rotate"],
            None,
            &[("IRONGATE_ACCESS_TOKEN_TTL", "1")],
        )
        .json();
    // Retention = 1 s token lifetime + 1 s grace; the poller prunes on its next tick after that.
    let pruned = eventually(8, || {
        let app = &app;
        let old_kid = old_kid.clone();
        async move {
            let keys = app.jwks().await["keys"].as_array().unwrap().clone();
            keys.len() == 1 && keys[0]["kid"] != old_kid.as_str()
        }
    })
    .await;
    assert!(pruned, "the retired key leaves the JWKS");
    let files = std::fs::read_dir(app.env.keys_dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".pem")
        })
        .count();
    assert_eq!(files, 1, "and its file is deleted");
}

/// SEC-39 (signing side): only RS256 from a published kid verifies.
#[tokio::test]
async fn sec_39_forged_algorithms_and_unknown_kids_are_refused() {
    let app = spawn_app().await;
    let v = validation(&app);
    let good = app.state.keys.sign("at+jwt", &claims(&app)).unwrap();
    let (header_b64, rest) = good.split_once('.').unwrap();
    let (payload_b64, _) = rest.split_once('.').unwrap();
    let _ = header_b64;

    // alg none, empty signature.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let kid = app.state.keys.active_kid();
    for alg in ["none", "nOnE"] {
        let header = b64.encode(json!({"alg": alg, "typ": "at+jwt", "kid": kid}).to_string());
        assert!(
            app.state
                .keys
                .verify::<Value>(&format!("{header}.{payload_b64}."), &v)
                .is_err(),
            "{alg}"
        );
    }
    // HS256 with the public key (JWKS JSON and PEM-ish n) as the HMAC secret.
    let jwks = app.jwks().await;
    let n = jwks["keys"][0]["n"].as_str().unwrap();
    for secret in [jwks.to_string(), n.to_string()] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.clone());
        let forged = jsonwebtoken::encode(
            &header,
            &claims(&app),
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        assert!(app.state.keys.verify::<Value>(&forged, &v).is_err());
    }
    // Unknown, path-like and injection kids.
    for bad_kid in ["unknown", "../../../../dev/null", "' OR 1=1--"] {
        let header = b64.encode(json!({"alg": "RS256", "kid": bad_kid}).to_string());
        let sig = good.rsplit('.').next().unwrap();
        assert!(
            app.state
                .keys
                .verify::<Value>(&format!("{header}.{payload_b64}.{sig}"), &v)
                .is_err(),
            "{bad_kid}"
        );
    }
    // A modified payload.
    let tampered = b64.encode(json!({"sub": "admin", "iss": app.state.settings.server.issuer, "aud": "rs", "exp": 4_000_000_000u64}).to_string());
    let mut parts: Vec<&str> = good.split('.').collect();
    parts[1] = &tampered;
    assert!(
        app.state
            .keys
            .verify::<Value>(&parts.join("."), &v)
            .is_err()
    );
    assert!(app.state.keys.verify::<Value>("garbage", &v).is_err());
}
