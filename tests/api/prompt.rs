//! `prompt`, `max_age`, `id_token_hint` and `nonce` (checklist section F): silent answers with
//! and without a session, forced re-authentication, hints for someone else or forged, and
//! constant values flagged in the log.

use crate::helpers::{
    Browser, PASSWORD, REDIRECT, code_request, error_of, forged_hints, id_claims, spawn_session_app,
};

/// SEC-43: `prompt=none` without a session answers `login_required` silently, with state and iss.
#[tokio::test]
async fn sec_43_prompt_none_without_session_is_login_required() {
    let (app, c) = spawn_session_app().await;
    let page = Browser::new(&app)
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert_eq!(page.status, 302);
    let params = page.redirect_params();
    assert_eq!(params["error"], "login_required");
    assert_eq!(params["state"], "af0ifjsldkj");
    assert_eq!(params["iss"], app.address);
}

/// SEC-44: with a session, `prompt=none` (with or without the previous ID token as hint) is
/// silent and consistent; a hint for someone else, or a forged one, gives no code.
#[tokio::test]
async fn prompt_none_with_a_session_is_silent_unless_the_hint_is_foreign_or_forged_sec_44() {
    let (app, c) = spawn_session_app().await;
    let browser = Browser::new(&app);
    let first = id_claims(&app.sign_in_tokens(&c, &browser, &[]).await);
    let hint = app
        .sign_in_tokens(&c, &browser, &[("prompt", "none")])
        .await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let silent = id_claims(
        &app.sign_in_tokens(
            &c,
            &browser,
            &[("prompt", "none"), ("id_token_hint", &hint)],
        )
        .await,
    );
    assert_eq!(silent["sub"], first["sub"]);
    assert_eq!(silent["auth_time"], first["auth_time"]);
    assert_eq!(silent["sid"], first["sid"]);

    // Bob's ID token as the hint while Alice is signed in.
    let bob_browser = Browser::new(&app);
    let bob_page = bob_browser
        .sign_in_and_approve(&code_request(&c, &[]), "bob@example.com")
        .await;
    let bob_hint = app.code_tokens(&c, &bob_page).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = browser
        .authorize(&code_request(
            &c,
            &[("prompt", "none"), ("id_token_hint", &bob_hint)],
        ))
        .await;
    assert_eq!(error_of(&page), "login_required");

    // Tampered hints: alg none, a flipped signature, a foreign key, garbage.
    for bad in forged_hints(&hint) {
        let page = browser
            .authorize(&code_request(
                &c,
                &[("prompt", "none"), ("id_token_hint", &bad)],
            ))
            .await;
        assert_eq!(error_of(&page), "invalid_request");
    }
}

/// SEC-44: a hint for Alice, then Bob signs in: `login_required`, never a code for Bob, and no
/// endless loop back to the login page.
#[tokio::test]
async fn sec_44_hint_for_another_user_than_the_one_signing_in() {
    let (app, c) = spawn_session_app().await;
    let alice = Browser::new(&app);
    let hint = app.sign_in_tokens(&c, &alice, &[]).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = Browser::new(&app);
    let page = browser
        .authorize(&code_request(&c, &[("id_token_hint", &hint)]))
        .await;
    let after = browser.login(&page, "bob@example.com", PASSWORD).await;
    assert_eq!(after.status, 303);
    let params = after.redirect_params();
    assert_eq!(params["error"], "login_required");
    assert!(!params.contains_key("code"));
}

/// SEC-45: `prompt=login` and `max_age` force a new sign-in; signing in as someone else never
/// reuses the old session.
#[tokio::test]
async fn sec_45_prompt_login_and_max_age_force_reauthentication() {
    let (app, c) = spawn_session_app().await;
    let browser = Browser::new(&app);
    let first = id_claims(&app.sign_in_tokens(&c, &browser, &[]).await);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    // max_age=10000: still silent.
    let page = browser
        .authorize(&code_request(&c, &[("max_age", "10000")]))
        .await;
    assert_eq!(page.status, 302);
    // max_age=1 after two seconds: the login form, then a newer auth_time.
    let page = browser
        .authorize(&code_request(&c, &[("max_age", "1")]))
        .await;
    assert!(page.has("<form id=\"login\""));
    let page = browser
        .sign_in_and_approve(&code_request(&c, &[("max_age", "1")]), "alice@example.com")
        .await;
    let second = id_claims(&app.code_tokens(&c, &page).await);
    assert!(second["auth_time"].as_i64() > first["auth_time"].as_i64());
    // max_age with prompt=none and a stale session: login_required.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let page = browser
        .authorize(&code_request(&c, &[("max_age", "1"), ("prompt", "none")]))
        .await;
    assert_eq!(error_of(&page), "login_required");

    // prompt=login for the same user: the form again, a newer auth_time, a new session.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "login")]))
        .await;
    assert!(page.has("<form id=\"login\""));
    let again = browser.login(&page, "alice@example.com", PASSWORD).await;
    let alice_cookie = Browser::session_cookie(&again).expect("a new session cookie");
    let page = browser.follow(&again).await;
    let page = if page.has("<form id=\"consent\"") {
        browser.consent(&page, "allow").await
    } else {
        page
    };
    let third = id_claims(&app.code_tokens(&c, &page).await);
    assert!(third["auth_time"].as_i64() > second["auth_time"].as_i64());
    assert_ne!(third["sid"], second["sid"]);

    // prompt=login: the form again; Bob signs in on Alice's browser.
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "login")]))
        .await;
    assert!(page.has("<form id=\"login\""));
    let after = browser.login(&page, "bob@example.com", PASSWORD).await;
    assert_eq!(after.status, 303);
    let new_cookie = Browser::session_cookie(&after).expect("a new session cookie");
    let page = browser.follow(&after).await;
    let page = browser.consent(&page, "allow").await;
    let bob = id_claims(&app.code_tokens(&c, &page).await);
    assert_ne!(bob["sub"], first["sub"]);
    assert_ne!(bob["sid"], second["sid"]);
    assert_ne!(
        new_cookie.split(';').next(),
        alice_cookie.split(';').next(),
        "Bob's session is not Alice's"
    );
}

/// SEC-45: `max_age=0` is `prompt=login` (OpenID Connect Core §3.1.2.1), even within the
/// second of the last sign-in; signing in satisfies it.
#[tokio::test]
async fn sec_45_max_age_zero_always_asks_to_sign_in() {
    let (app, c) = spawn_session_app().await;
    let browser = Browser::new(&app);
    app.sign_in_tokens(&c, &browser, &[]).await;
    let page = browser
        .authorize(&code_request(&c, &[("max_age", "0")]))
        .await;
    assert!(page.has("<form id=\"login\""), "{}", page.body);
    let page = browser
        .authorize(&code_request(&c, &[("max_age", "0"), ("prompt", "none")]))
        .await;
    assert_eq!(error_of(&page), "login_required");
    let page = browser
        .sign_in_and_approve(&code_request(&c, &[("max_age", "0")]), "alice@example.com")
        .await;
    let claims = id_claims(&app.code_tokens(&c, &page).await);
    assert!(claims["auth_time"].is_i64());
}

/// SEC-45: a consent page left open past `max_age` sends the user back to sign in.
#[tokio::test]
async fn sec_45_consent_after_max_age_asks_to_sign_in_again() {
    let (app, c) = spawn_session_app().await;
    let browser = Browser::new(&app);
    // Three seconds leave a slow CI machine room to reach the consent page in time.
    let request = code_request(&c, &[("max_age", "3")]);
    let page = browser.authorize(&request).await;
    let after = browser.login(&page, "alice@example.com", PASSWORD).await;
    // The continuation drops max_age (just satisfied); the consent form carries that.
    let consent = browser.follow(&after).await;
    assert!(consent.has("<form id=\"consent\""));
    // A consent form for the original request (with max_age), posted too late.
    let raw = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&request)
        .finish();
    let stale = browser.authorize(&request).await;
    assert!(stale.has("<form id=\"consent\""), "{}", stale.body);
    assert_eq!(stale.hidden("request"), raw);
    tokio::time::sleep(std::time::Duration::from_millis(4100)).await;
    let late = browser.consent(&stale, "allow").await;
    assert_eq!(late.status, 303);
    assert!(
        late.location().unwrap().contains("/authorize?"),
        "{:?}",
        late.location()
    );
}

/// SEC-46: the nonce is optional for the code flow and echoed exactly when sent.
#[tokio::test]
async fn sec_46_nonce_optional_and_echoed() {
    let (app, c) = spawn_session_app().await;
    let browser = Browser::new(&app);
    let without = id_claims(&app.sign_in_tokens(&c, &browser, &[("nonce", "")]).await);
    assert!(without.get("nonce").is_none());
    let long = "n".repeat(64);
    let with = id_claims(&app.sign_in_tokens(&c, &browser, &[("nonce", &long)]).await);
    assert_eq!(with["nonce"], long.as_str());
}

/// SEC-46: a client sending the same `code_challenge` and `nonce` in request after request is
/// flagged in the log (RFC 9700 §2.1.1: SHOULD detect constant values); fresh values are not.
#[tokio::test]
async fn sec_46_constant_challenge_and_nonce_are_flagged_in_logs() {
    crate::helpers::warnings_logged();
    let (app, c) = spawn_session_app().await;
    let browser = Browser::new(&app);
    app.sign_in_tokens(&c, &browser, &[("nonce", "constant-nonce")])
        .await;
    // Three uses in all: the first warning (the next ones come at 4, 8, 16, …).
    for _ in 0..2 {
        let page = browser
            .authorize(&code_request(&c, &[("nonce", "constant-nonce")]))
            .await;
        assert!(page.redirect_params().contains_key("code"));
    }
    let fresh = app.create_client(&["--redirect-uri", REDIRECT]);
    let browser = Browser::new(&app);
    app.sign_in_tokens(&fresh, &browser, &[]).await;
    for i in 0..4 {
        let (nonce, challenge) = (format!("nonce-{i}"), format!("{:0>43}", i));
        let page = browser
            .authorize(&code_request(
                &fresh,
                &[("nonce", &nonce), ("code_challenge", &challenge)],
            ))
            .await;
        assert!(page.redirect_params().contains_key("code"));
    }
    let logs = crate::helpers::warnings_logged();
    let of = |client: &str, parameter: &str| {
        logs.lines()
            .filter(|l| l.contains(client) && l.contains(&format!("parameter=\"{parameter}\"")))
            .count()
    };
    assert_eq!(of(&c.id, "code_challenge"), 1, "{logs}");
    assert_eq!(of(&c.id, "nonce"), 1, "{logs}");
    assert_eq!(of(&fresh.id, "code_challenge") + of(&fresh.id, "nonce"), 0);
}
