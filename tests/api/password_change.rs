//! Password change (SEC-60, CONTRACT "Password change"), on the account page and from the
//! command line: the new password works, the old one does not, and every other session and
//! token of the user ends.

use crate::helpers::{Browser, PASSWORD, Page, spawn_app, spawn_app_with};

const NEW_PASSWORD: &str = "violet harbour lantern sixty";

/// SEC-60: `user set-password` replaces the password and ends every token of the user.
#[tokio::test]
async fn set_password_replaces_it_and_ends_every_token_sec_60() {
    let app = spawn_app().await;
    let (c, user) = app.password_client_with_alice();
    let before = app.password_login(&c, "openid").await;

    let out = app
        .env
        .cli(
            &[
                "user",
                "set-password",
                "--email",
                "ALICE@example.com",
                "--password-stdin",
            ],
            Some(&format!("{NEW_PASSWORD}\n")),
        )
        .json();
    assert_eq!(out["id"], user.as_str());
    assert_eq!(out["email"], "alice@example.com");

    let access = before["access_token"].as_str().unwrap();
    assert_eq!(
        app.userinfo_status(access).await,
        401,
        "old access token ended"
    );
    let refresh = before["refresh_token"].as_str().unwrap();
    assert_eq!(
        app.refresh(&c, refresh, None).await.0,
        400,
        "old refresh token ended"
    );
    let (status, _, _) = app.password_attempt(&c, PASSWORD, None).await;
    assert_eq!(status, 400, "the old password no longer signs in");
    let (status, _, _) = app.password_attempt(&c, NEW_PASSWORD, None).await;
    assert_eq!(status, 200, "the new one does");
}

/// SEC-60 / SEC-59: a weak new password, an unknown user or a missing `--password-stdin` are
/// refused with one line, and nothing changes.
#[tokio::test]
async fn set_password_refusals_change_nothing_sec_60() {
    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    let session = app.password_login(&c, "openid").await;
    let set = |email: &str, password: &str| {
        app.env.cli(
            &["user", "set-password", "--email", email, "--password-stdin"],
            Some(password),
        )
    };
    set("alice@example.com", "password1").assert_fails_with("too common");
    set("alice@example.com", "alice@example.com").assert_fails_with("too common");
    set("ghost@example.com", NEW_PASSWORD).assert_fails_with("no user");
    set("not-an-email", NEW_PASSWORD).assert_fails_with("email");
    let missing = app.env.cli(
        &["user", "set-password", "--email", "alice@example.com"],
        Some(NEW_PASSWORD),
    );
    assert!(!missing.status.success());
    let access = session["access_token"].as_str().unwrap();
    assert_eq!(app.userinfo_status(access).await, 200, "nothing ended");
    let (status, _, _) = app.password_attempt(&c, PASSWORD, None).await;
    assert_eq!(status, 200, "the password is unchanged");
}

/// Signs `browser` in through the account page: `/account/password` sends it to the login page,
/// which brings it back. The password page.
async fn account_sign_in(browser: &Browser, email: &str, password: &str) -> Page {
    let start = browser.get("/account/password").await;
    assert_eq!(start.status, 302, "{}", start.body);
    let login_url = start.location().unwrap();
    assert!(
        login_url.ends_with("/login?next=/account/password"),
        "{login_url}"
    );
    let login = browser.get(&login_url).await;
    assert_eq!(login.status, 200);
    assert!(login.has("<form id=\"login\""), "{}", login.body);
    assert_eq!(login.hidden("next"), "/account/password");
    let signed_in = browser
        .post(
            "/login",
            &[
                ("csrf_token", &login.hidden("csrf_token")),
                ("next", &login.hidden("next")),
                ("username", email),
                ("password", password),
            ],
        )
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let page = browser.follow(&signed_in).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

async fn change(browser: &Browser, page: &Page, current: &str, new: &str) -> Page {
    assert!(
        page.has("<form id=\"change-password\""),
        "not the password page: {}",
        page.body
    );
    browser
        .post(
            "/account/password",
            &[
                ("csrf_token", page.hidden("csrf_token").as_str()),
                ("current_password", current),
                ("new_password", new),
            ],
        )
        .await
}

/// SEC-60: the password page (its hooks, reached through the login page), then a change: the
/// new password signs in and the old one does not; every other session, refresh token and
/// access token of the user ends; this browser stays signed in with a new session.
#[tokio::test]
async fn the_account_page_changes_the_password_and_ends_everything_else_sec_60() {
    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    let tokens = app.password_login(&c, "openid").await;
    let other = Browser::new(&app);
    account_sign_in(&other, "alice@example.com", PASSWORD).await;

    let browser = Browser::new(&app);
    let page = account_sign_in(&browser, "alice@example.com", PASSWORD).await;
    for hook in [
        "<form id=\"change-password\"",
        "id=\"current-password\"",
        "id=\"new-password\"",
        "name=\"csrf_token\"",
    ] {
        assert!(page.has(hook), "{hook}: {}", page.body);
    }
    assert!(page.has("alice@example.com"));
    assert!(page.has("href=\"../assets/irongate.css\""), "{}", page.body);

    let done = change(&browser, &page, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.has("id=\"password-changed\""), "{}", done.body);
    assert!(
        Browser::session_cookie(&done).is_some(),
        "this browser gets a new session"
    );

    let still = browser.get("/account/password").await;
    assert_eq!(still.status, 200, "this browser is still signed in");
    assert!(still.has("<form id=\"change-password\""));
    let ended = other.get("/account/password").await;
    assert_eq!(ended.status, 302, "the other browser's session ended");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.userinfo_status(access).await, 401, "access token ended");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(app.refresh(&c, refresh, None).await.0, 400, "refresh ended");
    assert_eq!(app.password_attempt(&c, PASSWORD, None).await.0, 400);
    assert_eq!(app.password_attempt(&c, NEW_PASSWORD, None).await.0, 200);
}

/// SEC-60: a wrong current password is refused (401, `.error`) and counts as a failed sign-in —
/// after `login_limit_per_user` of them even the right one waits (429, `Retry-After`); a weak
/// new password is refused (400) and nothing changes.
#[tokio::test]
async fn wrong_current_passwords_count_and_weak_new_ones_are_refused_sec_60() {
    let app = spawn_app_with(crate::helpers::TestEnv::new(), |s| {
        s.login.limit_per_user = 3;
    })
    .await;
    let (c, _) = app.password_client_with_alice();
    let browser = Browser::new(&app);
    let page = account_sign_in(&browser, "alice@example.com", PASSWORD).await;

    let weak = change(&browser, &page, PASSWORD, "password1").await;
    assert_eq!(weak.status, 400, "{}", weak.body);
    assert!(weak.has("class=\"error\""));
    assert!(weak.has("too common"), "{}", weak.body);
    let empty = change(&browser, &page, "", NEW_PASSWORD).await;
    assert_eq!(empty.status, 400);

    for _ in 0..3 {
        let wrong = change(&browser, &page, "not my password", NEW_PASSWORD).await;
        assert_eq!(wrong.status, 401, "{}", wrong.body);
        assert!(wrong.has("class=\"error\""));
        assert!(wrong.has("<form id=\"change-password\""));
    }
    let limited = change(&browser, &page, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.header("retry-after").parse::<u64>().unwrap() > 0);

    assert_eq!(
        app.password_attempt(&c, PASSWORD, Some("198.51.100.1"))
            .await
            .0,
        200,
        "the password is unchanged"
    );
}

/// SEC-52 on the password form: without its CSRF token, or from another site, nothing changes
/// (403); without a session the form sends the browser to the login page. The login page's
/// `next` is one of irongate's own pages, or the request is refused.
#[tokio::test]
async fn the_password_form_refuses_forgeries_and_foreign_destinations_sec_60() {
    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    let browser = Browser::new(&app);
    let page = account_sign_in(&browser, "alice@example.com", PASSWORD).await;

    let forged = browser
        .post(
            "/account/password",
            &[
                ("csrf_token", "forged"),
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    let cross_site = browser
        .http
        .post(format!("{}/account/password", browser.base))
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("csrf_token", page.hidden("csrf_token").as_str()),
            ("current_password", PASSWORD),
            ("new_password", NEW_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status().as_u16(), 403);
    let stranger = Browser::new(&app);
    let anonymous = change(&stranger, &page, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(anonymous.status, 302, "no session: to the login page");
    assert_eq!(app.password_attempt(&c, PASSWORD, None).await.0, 200);

    // Signed in already: the login page goes straight on.
    let straight = browser.get("/login").await;
    assert_eq!(straight.status, 302);
    assert!(straight.location().unwrap().ends_with("/account/password"));
    for next in ["https://evil.example/", "/authorize", "//evil.example"] {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish();
        let refused = Browser::new(&app).get(&format!("/login?{query}")).await;
        assert_eq!(refused.status, 400, "{next}");
        assert!(refused.location().is_none());
    }
    let login = stranger.get("/login").await;
    assert_eq!(login.status, 200);
    let evil = stranger
        .post(
            "/login",
            &[
                ("csrf_token", &login.hidden("csrf_token")),
                ("next", "https://evil.example/"),
                ("username", "alice@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(evil.status, 403);
    assert!(evil.location().is_none());
    let wrong_method = browser
        .http
        .put(format!("{}/account/password", browser.base))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status().as_u16(), 405);
}
