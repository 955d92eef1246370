//! Discovery metadata (OpenID Connect Discovery 1.0, RFC 8414).

use crate::helpers::{json_of, spawn_app};

#[tokio::test]
async fn issuer_equals_the_configuration_exactly() {
    let app = spawn_app().await;
    let oidc = app.discovery().await;
    assert_eq!(oidc["issuer"], app.state.settings.server.issuer.as_str());
    assert_eq!(oidc["issuer"], app.address.as_str());
    let oauth = app
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(oauth["issuer"], oidc["issuer"]);
    assert_eq!(oauth["jwks_uri"], oidc["jwks_uri"]);
    assert_eq!(
        oidc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    assert_eq!(
        oidc["subject_types_supported"],
        serde_json::json!(["public"])
    );
    // Every grant the token endpoint accepts, password included (RFC 8414 §2).
    assert_eq!(
        oidc["grant_types_supported"],
        serde_json::json!([
            "authorization_code",
            "client_credentials",
            "password",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:token-exchange"
        ]),
        "every grant the token endpoint accepts is listed"
    );
    // The code flow only (SEC-09), PKCE S256 only (SEC-16), `iss` in responses (SEC-08).
    assert_eq!(
        oidc["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(
        oidc["response_modes_supported"],
        serde_json::json!(["query", "form_post"])
    );
    assert_eq!(
        oidc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        oidc["authorization_response_iss_parameter_supported"],
        serde_json::json!(true)
    );
    assert_eq!(
        oauth["code_challenge_methods_supported"],
        oidc["code_challenge_methods_supported"]
    );
    for (key, path) in [
        ("authorization_endpoint", "/authorize"),
        ("end_session_endpoint", "/logout"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("revocation_endpoint", "/revoke"),
        ("introspection_endpoint", "/introspect"),
    ] {
        assert_eq!(oidc[key], format!("{}{path}", app.address), "{key}");
    }
    assert_eq!(oauth["revocation_endpoint"], oidc["revocation_endpoint"]);
    assert_eq!(
        oidc["introspection_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post"])
    );
    let scopes = oidc["scopes_supported"].as_array().unwrap();
    for s in [
        "openid",
        "profile",
        "email",
        "offline_access",
        "users:read",
        "admin",
    ] {
        assert!(scopes.iter().any(|v| v == s), "{s}");
    }
}

#[tokio::test]
async fn every_advertised_endpoint_answers() {
    let app = spawn_app().await;
    for doc_path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let doc = app.get_json(doc_path).await;
        let mut checked = 0;
        for (key, value) in doc.as_object().unwrap() {
            if !(key.ends_with("_endpoint") || key.ends_with("_uri")) {
                continue;
            }
            let url = value.as_str().unwrap();
            assert!(
                url.starts_with(&app.address),
                "{key} is under the issuer: {url}"
            );
            let status = app.http.get(url).send().await.unwrap().status();
            // Endpoints that take only POST answer 405 to GET; none may be missing.
            assert!(
                status == 200 || status == 405 || status == 400 || status == 401,
                "{key} {url}: {status}"
            );
            checked += 1;
        }
        assert!(checked >= 4, "{doc_path} advertises endpoints");
    }
}

#[tokio::test]
async fn metadata_is_cacheable_json() {
    let app = spawn_app().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/.well-known/jwks.json",
    ] {
        let resp = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        assert!(
            resp.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age="),
            "{path}"
        );
    }
}

/// SEC-42: metadata does not depend on request headers.
#[tokio::test]
async fn sec_42_metadata_ignores_host_and_forwarded_headers() {
    let app = spawn_app().await;
    let plain = app.discovery().await;
    let spoofed: serde_json::Value = app
        .http
        .get(app.url("/.well-known/openid-configuration"))
        .header("Host", "evil.test")
        .header("X-Forwarded-Host", "evil.test")
        .header("X-Forwarded-Proto", "https")
        .header("Forwarded", "host=evil.test;proto=https")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plain, spoofed);
    assert!(!spoofed.to_string().contains("evil.test"));
}

#[tokio::test]
async fn unknown_paths_and_methods_are_not_server_errors() {
    let app = spawn_app().await;
    assert_eq!(
        app.http
            .get(app.url("/nope"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let post = app
        .http
        .post(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(post, 405);
}

/// RFC 8414 §2: `grant_types_supported` lists what the token endpoint accepts. A client not
/// registered for a listed grant is told `unauthorized_client` (the grant exists; SEC-28's
/// per-client allowlist), never `unsupported_grant_type`; a grant not listed is unsupported.
#[tokio::test]
async fn every_advertised_grant_is_one_the_token_endpoint_accepts_sec_28() {
    let app = spawn_app().await;
    let client = app.create_client(&[
        "--grant-type",
        "authorization_code",
        "--redirect-uri",
        "https://rp.test/cb",
    ]);
    let oidc = app.discovery().await;
    let advertised = oidc["grant_types_supported"].as_array().unwrap().clone();
    assert_eq!(advertised.len(), 5, "{advertised:?}");
    for grant in advertised.iter().map(|g| g.as_str().unwrap()) {
        if grant == "authorization_code" {
            continue; // the client's own grant: refused for its missing code instead
        }
        let (status, _, body) = json_of(
            app.post_token(Some((&client.id, &client.secret)), &[("grant_type", grant)])
                .await,
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("unauthorized_client")),
            "{grant}: {body}"
        );
    }
    let (status, _, body) = json_of(
        app.post_token(
            Some((&client.id, &client.secret)),
            &[("grant_type", "implicit")],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
}

/// Repeated slashes in a path are merged before routing (the query is kept).
#[tokio::test]
async fn repeated_slashes_in_a_path_are_merged() {
    let app = spawn_app().await;
    let url = format!("{}//.well-known///openid-configuration?x=1", app.address);
    let response = app.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let doc: serde_json::Value = response.json().await.unwrap();
    assert_eq!(doc["issuer"], app.address.as_str());
    let jwks = app
        .http
        .get(format!("{}/.well-known//jwks.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);
    let missing = app
        .http
        .get(format!("{}//no//such", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // The query survives the merge: the authorization endpoint sees the client it names.
    let page = |query: &'static str| {
        let url = format!("{}//authorize{query}", app.address);
        let http = app.http.clone();
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert!(page("").await.contains("no client_id"));
    assert!(page("?client_id=nobody").await.contains("not registered"));
}
