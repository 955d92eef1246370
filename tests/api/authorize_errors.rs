//! Errors of authorization requests once the redirect URI is trusted: sent back with `state` and
//! `iss`, never a token in the front channel; parameter hygiene; request objects refused without
//! any fetch; error descriptions within RFC 6749's character set.

use crate::helpers::{Browser, REDIRECT, assert_no_redirect, code_request, spawn_code_flow_app};

/// SEC-07, SEC-08, SEC-09, SEC-15, SEC-16: once the redirect URI is trusted, errors go back to
/// it with `error`, `state` and `iss`; never a token in the front channel; request objects
/// refused without any fetch.
#[tokio::test]
async fn sec_07_errors_after_validation_are_redirected_with_state_and_iss() {
    let (app, c) = spawn_code_flow_app().await;
    let p = app.create_client(&["--public", "--redirect-uri", REDIRECT]);
    let browser = Browser::new(&app);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            code_request(&c, &[("response_type", "")]),
            "invalid_request",
        ),
        (
            code_request(&c, &[("response_type", "token")]),
            "unsupported_response_type",
        ),
        (
            code_request(&c, &[("response_type", "id_token token")]),
            "unsupported_response_type",
        ),
        (
            code_request(&c, &[("scope", "openid nope")]),
            "invalid_scope",
        ),
        (
            code_request(&c, &[("scope", "openid admin")]),
            "invalid_scope",
        ),
        (code_request(&c, &[("scope", "")]), "invalid_scope"),
        (
            code_request(&c, &[("code_challenge_method", "plain")]),
            "invalid_request",
        ),
        (
            code_request(&c, &[("code_challenge_method", "")]),
            "invalid_request",
        ),
        (
            code_request(&c, &[("code_challenge", "short")]),
            "invalid_request",
        ),
        (
            code_request(&c, &[("code_challenge", "")]),
            "invalid_request",
        ),
        (
            code_request(&p, &[("code_challenge", ""), ("code_challenge_method", "")]),
            "invalid_request",
        ),
        (
            code_request(&c, &[("prompt", "none login")]),
            "invalid_request",
        ),
        (code_request(&c, &[("prompt", "bogus")]), "invalid_request"),
        (code_request(&c, &[("max_age", "-1")]), "invalid_request"),
        (
            code_request(&c, &[("response_mode", "fragment")]),
            "invalid_request",
        ),
        (
            code_request(
                &c,
                &[("request_uri", "http://169.254.169.254/latest/meta-data/")],
            ),
            "request_uri_not_supported",
        ),
        (
            code_request(&c, &[("request", "eyJhbGciOiJub25lIn0.e30.")]),
            "request_not_supported",
        ),
    ];
    for (params, expected) in cases {
        let page = browser.authorize(&params).await;
        assert_eq!(page.status, 302, "{params:?}: {}", page.body);
        let location = page.location().unwrap();
        assert!(location.starts_with("https://rp.test/cb?"), "{location}");
        assert!(!location.contains("access_token"), "{location}");
        let got = page.redirect_params();
        assert_eq!(got["error"], expected, "{params:?}");
        assert_eq!(got["state"], "af0ifjsldkj");
        assert_eq!(got["iss"], app.address);
        assert!(!got.contains_key("code"));
    }
    // A prompt=none request with an unregistered URI is still an error page (SEC-07).
    let page = browser
        .authorize(&code_request(
            &c,
            &[("prompt", "none"), ("redirect_uri", "https://evil.test/cb")],
        ))
        .await;
    assert_no_redirect(&page, "prompt=none with a bad redirect_uri");
    // A client not registered for the code flow.
    let m2m = app.create_client(&[
        "--redirect-uri",
        REDIRECT,
        "--grant-type",
        "client_credentials",
    ]);
    let got = browser
        .authorize(&code_request(&m2m, &[]))
        .await
        .redirect_params();
    assert_eq!(got["error"], "unauthorized_client");
}

/// SEC-10: unknown parameters are ignored, order does not matter, repeats are refused, a long
/// state comes back byte for byte.
#[tokio::test]
async fn unknown_parameters_are_ignored_and_repeated_ones_refused_sec_10() {
    let (app, c) = spawn_code_flow_app().await;
    let browser = Browser::new(&app);
    let long_state = "s".repeat(2048);
    let mut params = code_request(
        &c,
        &[
            ("extra", "foobar"),
            ("scope", "email openid"),
            ("state", &long_state),
        ],
    );
    params.reverse();
    let page = browser
        .sign_in_and_approve(&params, "alice@example.com")
        .await;
    let got = page.redirect_params();
    assert!(got.contains_key("code"), "{got:?}");
    assert_eq!(got["state"], long_state);

    let mut params = code_request(&c, &[]);
    params.push(("scope", "email"));
    let got = browser.authorize(&params).await.redirect_params();
    assert_eq!(got["error"], "invalid_request");
    // Over the limit: refused, not truncated, never a 500.
    let huge = "s".repeat(5000);
    let page = browser
        .authorize(&code_request(&c, &[("state", &huge)]))
        .await;
    assert_eq!(page.redirect_params()["error"], "invalid_request");
}

/// SEC-15: `request_uri` is refused without any outbound fetch: a canary listener on this
/// machine sees no connection.
#[tokio::test]
async fn sec_15_request_uri_is_never_fetched() {
    let (app, c) = spawn_code_flow_app().await;
    let canary = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    canary.set_nonblocking(true).unwrap();
    let target = format!("http://{}/request.jwt", canary.local_addr().unwrap());
    let browser = Browser::new(&app);
    for param in ["request_uri", "request"] {
        let value = if param == "request" {
            "eyJhbGciOiJub25lIn0.eyJyZWRpcmVjdF91cmkiOiJodHRwczovL2V2aWwudGVzdC8ifQ."
        } else {
            target.as_str()
        };
        let page = browser
            .authorize(&code_request(&c, &[(param, value)]))
            .await;
        assert_eq!(
            page.redirect_params()["error"],
            format!("{param}_not_supported")
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        canary.accept().is_err(),
        "irongate connected to the request_uri"
    );
}

/// PostgreSQL refuses NUL bytes: a nonce with control characters is `invalid_request` on both
/// backends; `error_description` never carries characters RFC 6749 §4.1.2.1 forbids.
#[tokio::test]
async fn control_characters_are_invalid_requests_and_descriptions_stay_in_charset_sec_61() {
    let (app, c) = spawn_code_flow_app().await;
    let browser = Browser::new(&app);
    let page = browser
        .sign_in_and_approve(&code_request(&c, &[("nonce", "a\0b")]), "alice@example.com")
        .await;
    assert_eq!(page.redirect_params()["error"], "invalid_request");
    let page = browser
        .authorize(&code_request(&c, &[("scope", "openid \u{e9}\"x")]))
        .await;
    let params = page.redirect_params();
    assert_eq!(params["error"], "invalid_scope");
    assert!(
        params["error_description"]
            .chars()
            .all(|ch| matches!(ch, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')),
        "{}",
        params["error_description"]
    );
}
