//! The linking rules (CONTRACT "Sign in with Google", SEC-66): by (issuer, `sub`), never by
//! email alone; automatically only when both sides verified the email and the provider speaks
//! for it; otherwise after the local user's password in the same browser; every link changes
//! the security stamp; the local email is never replaced.

use crate::helpers::*;
use serde_json::json;

/// Signs in through the provider with `browser`; the callback sends the browser back to the
/// login page, which offers the link (`#link-account`): that page.
async fn offered(app: &TestApp, browser: &Browser, client: &Client) -> Page {
    let back = browser.google_sign_in(client).await;
    assert_eq!(back.status, 302, "{}", back.body);
    assert!(!starts_session(&back));
    assert!(
        back.location()
            .unwrap()
            .starts_with(&app.url("/authorize?"))
    );
    let page = browser.follow(&back).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.has("id=\"link-account\""), "{}", page.body);
    page
}

/// Creates `email` with a password, verified or not.
fn local_user(app: &TestApp, email: &str, verified: bool) -> String {
    let mut args = vec!["user", "create", "--email", email, "--password-stdin"];
    if verified {
        args.push("--email-verified");
    }
    app.env.cli(&args, Some(PASSWORD)).json()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The provider signs in `sub` with `email` (verified or not), in Workspace domain `hd`.
fn upstream_user(
    provider: &FakeProvider,
    sub: &str,
    email: &str,
    verified: bool,
    hd: Option<&str>,
) {
    provider.with(|f| {
        f.user =
            json!({"sub": sub, "email": email, "email_verified": verified, "name": "Up Stream"});
        if let Some(hd) = hd {
            f.user["hd"] = json!(hd);
        }
    });
}

/// SEC-66 (a): a local user whose email irongate has not verified is not linked, however
/// authoritative the provider: the login page explains (`#link-account`); after that user's
/// password sign-in in the same browser the identity is linked (a new security stamp), the
/// request goes on, and the next Google sign-in needs no password.
#[tokio::test]
async fn an_unverified_local_email_is_linked_only_after_its_password() {
    let (provider, app, client) = spawn_federated().await;
    let vic = local_user(&app, "vic@example.com", false);
    upstream_user(
        &provider,
        "g-vic",
        "vic@example.com",
        true,
        Some("example.com"),
    );
    let stamp = app
        .user_by_email("vic@example.com")
        .await
        .unwrap()
        .security_stamp;
    let browser = Browser::new(&app);
    let offer = offered(&app, &browser, &client).await;
    assert!(offer.has("vic@example.com") && offer.has("<form id=\"login\""));
    assert_eq!(app.linked_user(&provider.base, "g-vic").await, None);

    let signed_in = browser.login(&offer, "vic@example.com", PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(
        app.linked_user(&provider.base, "g-vic").await.as_deref(),
        Some(vic.as_str())
    );
    let user = app.user_by_email("vic@example.com").await.unwrap();
    assert_ne!(
        user.security_stamp, stamp,
        "linking changes the security stamp"
    );
    // The new session was made with the new stamp: the request goes on to consent and a code.
    let consent = browser.follow(&signed_in).await;
    let done = browser.consent(&consent, "allow").await;
    let tokens = app.code_tokens(&client, &done).await;
    assert_eq!(
        app.verified_claims(tokens["id_token"].as_str().unwrap(), &client.id)
            .await["sub"],
        vic.as_str()
    );

    let next_time = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(next_time.status, 302, "{}", next_time.body);
}

/// The offer is for one user: signing in with another user's password links nothing.
#[tokio::test]
async fn the_offer_links_nothing_when_someone_else_signs_in() {
    let (provider, app, client) = spawn_federated().await;
    local_user(&app, "vic@example.com", false);
    upstream_user(&provider, "g-vic", "vic@example.com", true, None);
    let browser = Browser::new(&app);
    let offer = offered(&app, &browser, &client).await;
    let signed_in = browser.login(&offer, "alice@example.com", PASSWORD).await;
    assert_eq!(signed_in.status, 303);
    assert_eq!(app.linked_user(&provider.base, "g-vic").await, None);
}

/// A verified local email and a provider that speaks for it (its `hd` is the email's domain):
/// linked at once, with a new security stamp; a provider that does not speak for it (no `hd`,
/// not Google) gets the password offer instead.
#[tokio::test]
async fn a_verified_email_is_linked_when_the_provider_is_authoritative() {
    let (provider, app, client) = spawn_federated().await;
    let val = local_user(&app, "val@example.com", true);
    local_user(&app, "nia@example.net", true);
    let stamp = app
        .user_by_email("val@example.com")
        .await
        .unwrap()
        .security_stamp;
    upstream_user(
        &provider,
        "g-val",
        "val@example.com",
        true,
        Some("example.com"),
    );
    let answer = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(answer.status, 302, "{}", answer.body);
    assert!(starts_session(&answer));
    assert_eq!(
        app.linked_user(&provider.base, "g-val").await.as_deref(),
        Some(val.as_str())
    );
    assert_ne!(
        app.user_by_email("val@example.com")
            .await
            .unwrap()
            .security_stamp,
        stamp
    );

    upstream_user(&provider, "g-nia", "nia@example.net", true, None);
    offered(&app, &Browser::new(&app), &client).await;
    assert_eq!(app.linked_user(&provider.base, "g-nia").await, None);
}

/// The same (issuer, sub) after the provider changed the email: still the same user, whose
/// local email stays as it was.
#[tokio::test]
async fn the_identity_not_the_email_names_the_user() {
    let (provider, app, client) = spawn_federated().await;
    let first = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(first.status, 302);
    let gina = app.user_by_email("gina@gmail.com").await.unwrap();
    upstream_user(&provider, "g-1001", "gina.new@gmail.com", true, None);
    let browser = Browser::new(&app);
    let back = browser.google_sign_in(&client).await;
    assert_eq!(back.status, 302, "{}", back.body);
    let consent = browser.follow(&back).await;
    let done = browser.consent(&consent, "allow").await;
    let tokens = app.code_tokens(&client, &done).await;
    let claims = app
        .verified_claims(tokens["id_token"].as_str().unwrap(), &client.id)
        .await;
    assert_eq!(claims["sub"], gina.id.as_str());
    assert_eq!(claims["email"], "gina@gmail.com");
    assert!(app.user_by_email("gina.new@gmail.com").await.is_none());
}

/// SEC-66 (b), (c): an unverified email at the provider creates nobody; a second identity
/// with a linked user's email never inherits the link; a disabled user is refused.
#[tokio::test]
async fn unverified_emails_second_identities_and_disabled_users_are_refused() {
    let (provider, app, client) = spawn_federated().await;
    upstream_user(&provider, "g-new", "newbie@gmail.com", false, None);
    let refused = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.has("not verified"));
    assert!(app.user_by_email("newbie@gmail.com").await.is_none());

    upstream_user(&provider, "g-1001", "gina@gmail.com", true, None);
    assert_eq!(Browser::new(&app).google_sign_in(&client).await.status, 302);
    upstream_user(
        &provider,
        "g-2002",
        "gina@gmail.com",
        true,
        Some("gmail.com"),
    );
    let second = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(second.status, 403, "{}", second.body);
    assert!(!starts_session(&second));
    assert_eq!(app.linked_user(&provider.base, "g-2002").await, None);

    upstream_user(&provider, "g-1001", "gina@gmail.com", true, None);
    app.env
        .cli(&["user", "disable", "--email", "gina@gmail.com"], None)
        .json();
    let disabled = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(disabled.status, 403, "{}", disabled.body);
    assert!(disabled.has("disabled"));
    assert!(!starts_session(&disabled));
}

/// SEC-66 (b): an email the provider has not verified links to nobody, not even after a
/// password, and says nothing about the local user; a disabled user found by email is refused.
#[tokio::test]
async fn an_unverified_upstream_email_never_reaches_a_local_user() {
    let (provider, app, client) = spawn_federated().await;
    upstream_user(
        &provider,
        "g-eve",
        "alice@example.com",
        false,
        Some("example.com"),
    );
    let browser = Browser::new(&app);
    let refused = browser.google_sign_in(&client).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.has("not verified"));
    assert!(!refused.has("alice@example.com"));
    assert!(
        !refused
            .headers
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("irongate_link=")),
        "no link offered"
    );
    let page = browser.authorize(&code_request(&client, &[])).await;
    assert!(!page.has("link-account"));
    assert_eq!(
        browser
            .login(&page, "alice@example.com", PASSWORD)
            .await
            .status,
        303
    );
    assert_eq!(app.linked_user(&provider.base, "g-eve").await, None);

    local_user(&app, "dora@example.com", true);
    app.env
        .cli(&["user", "disable", "--email", "dora@example.com"], None)
        .json();
    upstream_user(
        &provider,
        "g-dora",
        "dora@example.com",
        true,
        Some("example.com"),
    );
    let disabled = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(disabled.status, 403, "{}", disabled.body);
    assert!(disabled.has("disabled"));
    assert_eq!(app.linked_user(&provider.base, "g-dora").await, None);
}

/// `user unlink` ends the link: the next Google sign-in needs the password again.
#[tokio::test]
async fn unlink_ends_the_link() {
    let (provider, app, client) = spawn_federated().await;
    local_user(&app, "vic@example.com", false);
    upstream_user(&provider, "g-vic", "vic@example.com", true, None);
    let browser = Browser::new(&app);
    let offer = offered(&app, &browser, &client).await;
    assert_eq!(
        browser
            .login(&offer, "vic@example.com", PASSWORD)
            .await
            .status,
        303
    );
    assert!(app.linked_user(&provider.base, "g-vic").await.is_some());
    assert_eq!(Browser::new(&app).google_sign_in(&client).await.status, 302);
    let out = app
        .env
        .cli(
            &[
                "user",
                "unlink",
                "--email",
                "vic@example.com",
                "--issuer",
                &provider.base,
            ],
            None,
        )
        .json();
    assert_eq!(out["email"], "vic@example.com");
    assert_eq!(app.linked_user(&provider.base, "g-vic").await, None);
    offered(&app, &Browser::new(&app), &client).await;
}
