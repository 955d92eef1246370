//! RP-initiated logout (SEC-47, SEC-48, SEC-12): a valid hint and a registered URI end the session
//! at once; anything else asks first or never redirects; the ended session stays ended; a
//! cross-site POST clears nothing.

use crate::helpers::{
    Browser, LOGOUT_TARGET, PASSWORD, claims_of, code_request, error_of, forged_hints, id_claims,
    spawn_session_app,
};

/// SEC-47, SEC-48, SEC-12: RP-initiated logout. A valid hint with a registered URI ends the
/// session and goes back at once with `state`; anything unregistered or forged never redirects;
/// without a hint a confirmation page asks; afterwards the old cookie is worthless.
#[tokio::test]
async fn logout_redirects_only_with_a_valid_hint_to_a_registered_uri_sec_47_sec_48() {
    let (app, c) = spawn_session_app().await;
    let browser = Browser::new(&app);
    let body = app.sign_in_tokens(&c, &browser, &[]).await;
    let hint = body["id_token"].as_str().unwrap().to_owned();

    // Unregistered or altered post-logout URIs, with a valid hint: logged out, no redirect.
    for bad in [
        "https://evil.test/",
        "https://rp.test/logged-out?foo=bar",
        "https://rp.test/logged-out/",
        "//evil.test",
        "/\\evil.test",
        "/%09/evil.test",
        "\\/evil.test",
        "https:evil.test",
    ] {
        let browser = Browser::new(&app);
        let own = app.sign_in_tokens(&c, &browser, &[]).await;
        let page = browser
            .get(&format!(
                "/logout?{}",
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs([
                        ("id_token_hint", own["id_token"].as_str().unwrap()),
                        ("post_logout_redirect_uri", bad),
                        ("state", "s1"),
                    ])
                    .finish()
            ))
            .await;
        assert!(page.location().is_none(), "{bad}");
        assert!(page.has("id=\"logged-out\""), "{bad}: {}", page.body);
    }
    // Forged hints (alg none, a flipped signature, a foreign key, garbage): an error page, no
    // redirect.
    for bad in forged_hints(&hint) {
        let page = browser
            .get(&format!(
                "/logout?id_token_hint={bad}&post_logout_redirect_uri={LOGOUT_TARGET}"
            ))
            .await;
        assert_eq!(page.status, 400);
        assert!(page.location().is_none());
    }
    // A valid hint from another session of the same user (an old ID token, leaked in a URL):
    // RP-Initiated Logout §2 says ask, so a confirmation page, nothing ended yet.
    let other = Browser::new(&app);
    let old = app.sign_in_tokens(&c, &other, &[]).await;
    let page = browser
        .get(&format!(
            "/logout?id_token_hint={}&post_logout_redirect_uri={LOGOUT_TARGET}",
            old["id_token"].as_str().unwrap()
        ))
        .await;
    assert!(page.has("<form id=\"logout\""), "{}", page.body);
    assert!(page.location().is_none());
    // No parameters, or `state` only: a confirmation page, nothing ended yet.
    for query in ["", "?state=only"] {
        let page = browser.get(&format!("/logout{query}")).await;
        assert!(page.has("<form id=\"logout\""), "{query}: {}", page.body);
        assert!(page.location().is_none());
    }
    let still = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert!(still.redirect_params().contains_key("code"));
    // A confirmation POST without or with a wrong CSRF token: 403, the session lives.
    for token in ["", "AAAA"] {
        let refused = browser
            .post("/logout", &[("csrf_token", token), ("request", "")])
            .await;
        if token.is_empty() {
            // An empty token is no token: the RP-initiated form of the request, continued as
            // a GET, which asks.
            assert_eq!(refused.status, 303);
            let page = browser.get(&refused.location().unwrap()).await;
            assert!(page.has("<form id=\"logout\""));
        } else {
            assert_eq!(refused.status, 403);
        }
    }
    let still = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert!(still.redirect_params().contains_key("code"));

    // Valid hint and registered URI: ended at once, 303 with state, cookie cleared.
    let page = browser
        .get(&format!(
            "/logout?id_token_hint={hint}&post_logout_redirect_uri={LOGOUT_TARGET}&state=s1"
        ))
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.location().unwrap(),
        format!("{LOGOUT_TARGET}?state=s1")
    );
    let cleared = Browser::session_cookie(&page).unwrap();
    assert!(
        cleared.contains("Max-Age=0") || cleared.contains("expires="),
        "{cleared}"
    );
    // SEC-48: prompt=none now needs a login.
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert_eq!(error_of(&page), "login_required");
}

/// SEC-48: replaying the session cookie after logout gives nothing; the confirmation path works.
#[tokio::test]
async fn sec_48_logout_confirmation_ends_the_session_for_good() {
    let (app, c) = spawn_session_app().await;
    let browser = Browser::new(&app);
    let page = browser.authorize(&code_request(&c, &[])).await;
    let after = browser.login(&page, "alice@example.com", PASSWORD).await;
    let cookie = Browser::session_cookie(&after).unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    browser.follow(&after).await;

    let confirm = browser
        .get(&format!(
            "/logout?client_id={}&post_logout_redirect_uri={LOGOUT_TARGET}&state=abc",
            c.id
        ))
        .await;
    assert!(confirm.has("<form id=\"logout\""));
    let done = browser
        .post(
            "/logout",
            &[
                ("csrf_token", &confirm.hidden("csrf_token")),
                ("request", &confirm.hidden("request")),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(
        done.location().unwrap(),
        format!("{LOGOUT_TARGET}?state=abc")
    );

    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/authorize"))
        .query(&code_request(&c, &[("prompt", "none")]))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    let page = Browser::read(replay).await;
    assert_eq!(error_of(&page), "login_required");
    // Bob signs in on the same browser: his own session and tokens.
    let page = browser
        .sign_in_and_approve(&code_request(&c, &[]), "bob@example.com")
        .await;
    let claims = id_claims(&app.code_tokens(&c, &page).await);
    let bob = app
        .state
        .store
        .run(|conn| irongate::store::find_user_by_email(conn, "bob@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claims["sub"], bob.id.as_str());
}

/// SEC-47: an ID token from a refresh carries the `sid` of the sign-in its family began in
/// (and no `nonce`, OpenID Connect Core §12.2), so it is a valid hint for that session: ended at
/// once, back to the registered URI with `state`.
#[tokio::test]
async fn sec_47_refreshed_id_token_is_a_valid_logout_hint() {
    let (app, c) = spawn_session_app().await;
    let browser = Browser::new(&app);
    let body = app.sign_in_tokens(&c, &browser, &[]).await;
    let (status, refreshed) = app
        .refresh(&c, body["refresh_token"].as_str().unwrap(), None)
        .await;
    assert_eq!(status, 200, "{refreshed}");
    let hint = refreshed["id_token"].as_str().unwrap();
    let (original, renewed) = (id_claims(&body), claims_of(hint));
    assert_eq!(renewed["sid"], original["sid"]);
    assert_eq!(renewed["auth_time"], original["auth_time"]);
    assert!(renewed.get("nonce").is_none());
    let page = browser
        .get(&format!(
            "/logout?id_token_hint={hint}&post_logout_redirect_uri={LOGOUT_TARGET}&state=s2"
        ))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        page.location().unwrap(),
        format!("{LOGOUT_TARGET}?state=s2")
    );
}

/// SEC-47: a hint from an earlier, ended session of the same user (replaced by a new sign-in)
/// still ends the current one at once; only another *live* session's hint asks first.
#[tokio::test]
async fn sec_47_hint_from_an_ended_session_of_the_user_ends_at_once() {
    let (app, c) = spawn_session_app().await;
    let browser = Browser::new(&app);
    let old = app.sign_in_tokens(&c, &browser, &[]).await;
    let page = browser
        .sign_in_and_approve(
            &code_request(&c, &[("prompt", "login")]),
            "alice@example.com",
        )
        .await;
    let new = app.code_tokens(&c, &page).await;
    assert_ne!(id_claims(&old)["sid"], id_claims(&new)["sid"]);
    let page = browser
        .get(&format!(
            "/logout?id_token_hint={}&post_logout_redirect_uri={LOGOUT_TARGET}&state=s3",
            old["id_token"].as_str().unwrap()
        ))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        page.location().unwrap(),
        format!("{LOGOUT_TARGET}?state=s3")
    );
}

/// SEC-47: a cross-site page posting to the logout endpoint arrives without the `SameSite=Lax`
/// cookie; the answer clears no cookie (browsers accept `Set-Cookie` on top-level navigations,
/// so clearing would sign the user out from any site), and the session lives on.
#[tokio::test]
async fn sec_47_cross_site_logout_post_clears_no_cookie() {
    let (app, c) = spawn_session_app().await;
    let browser = Browser::new(&app);
    app.sign_in_tokens(&c, &browser, &[]).await;
    let cross_site = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for body in ["csrf_token=x&request=", "csrf_token=x&request=state%3Ds"] {
        let resp = cross_site
            .post(app.url("/logout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", "https://evil.test")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success() || resp.status() == 403, "{body}");
        assert!(resp.headers().get("set-cookie").is_none(), "{body}");
    }
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert!(page.redirect_params().contains_key("code"));
}

/// CONTRACT "Hardening": no log line carries more than 8 KiB of request data — an unregistered
/// `post_logout_redirect_uri` of 12 KiB is logged cut short.
#[tokio::test]
async fn a_huge_unregistered_logout_uri_is_not_logged_whole() {
    let (app, _) = spawn_session_app().await;
    crate::helpers::warnings_logged();
    let marker = format!("https://rp.test/{}", uuid::Uuid::new_v4().simple());
    let huge = format!("{marker}/{}", "a".repeat(12 * 1024));
    let page = Browser::new(&app)
        .get(&format!(
            "/logout?post_logout_redirect_uri={}",
            url::form_urlencoded::byte_serialize(huge.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(page.status, 200, "the logged-out page, no redirect");
    let logs = crate::helpers::warnings_logged();
    let line = logs
        .lines()
        .find(|l| l.contains(&marker))
        .expect("the refusal is logged");
    assert!(line.len() < 8 * 1024, "{} bytes logged", line.len());
}
