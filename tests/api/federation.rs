//! "Sign in with Google" against a provider the test controls (`helpers/upstream.rs`): the
//! flow end to end, the callback's checks (SEC-64), the ID token's verification (SEC-65),
//! outbound requests (SEC-67) and the provider's failures (REL-12).

use crate::helpers::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// A new, verified email signs up through the provider and the authorization request goes on
/// exactly as after a password: consent, code, tokens for the new user; the upstream request
/// carried a fresh `state`, a `nonce` and PKCE S256 (SEC-64).
#[tokio::test]
async fn a_new_user_signs_in_with_google_and_the_request_goes_on() {
    let (provider, app, client) = spawn_federated().await;
    let browser = Browser::new(&app);
    let back = browser.google_sign_in(&client).await;
    assert_eq!(back.status, 302, "{}", back.body);
    assert!(starts_session(&back));
    let location = back.location().unwrap();
    assert!(location.starts_with(&app.url("/authorize?")), "{location}");
    let consent = browser.follow(&back).await;
    let done = browser.consent(&consent, "allow").await;
    let tokens = app.code_tokens(&client, &done).await;
    let claims = app
        .verified_claims(tokens["id_token"].as_str().unwrap(), &client.id)
        .await;
    let user = app
        .user_by_email("gina@gmail.com")
        .await
        .expect("a new user");
    assert_eq!(claims["sub"], user.id.as_str());
    assert_eq!(claims["email"], "gina@gmail.com");
    assert!(user.email_verified && user.password_hash.is_none());
    assert_eq!(user.name.as_deref(), Some("Gina Upstream"));
    assert_eq!(
        app.linked_user(&provider.base, "g-1001").await.as_deref(),
        Some(user.id.as_str())
    );
    let upstream = provider.with(|f| f.authorize_requests[0].clone());
    assert_eq!(upstream["code_challenge_method"], "S256");
    assert!(upstream["nonce"].len() >= 16 && upstream["state"].len() >= 16);
    assert_eq!(upstream["client_id"], UPSTREAM_CLIENT_ID);
    assert_eq!(upstream["redirect_uri"], app.url("/login/google/callback"));
    assert!(upstream["scope"].split(' ').any(|s| s == "openid"));
    // The same identity again: the same user, no second one.
    let again = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(again.status, 302, "{}", again.body);
    let second = provider.with(|f| f.authorize_requests[1].clone());
    assert_ne!(second["state"], upstream["state"]);
    assert_ne!(second["nonce"], upstream["nonce"]);
}

/// The button is a link outside `form#login`, on the authorization flow's login page and on the
/// account pages' one; without `google.*` there is neither button nor route.
#[tokio::test]
async fn the_login_page_offers_google_only_when_configured() {
    let (_provider, app, client) = spawn_federated().await;
    let browser = Browser::new(&app);
    let page = browser.authorize(&code_request(&client, &[])).await;
    let form_end = page.body.find("</form>").unwrap();
    let button = page.body.find("id=\"login-google\"").expect("the button");
    assert!(button > form_end, "a#login-google is inside form#login");
    assert!(page.has("<a id=\"login-google\""));
    let account = browser.get("/login?next=/account/password").await;
    let href = href_of(&account.body, "login-google").unwrap();
    assert_eq!(href, "login/google?next=%2Faccount%2Fpassword");

    let (plain, plain_client) = spawn_pages_app_with(|_| {}).await;
    let b = Browser::new(&plain);
    let page = b.authorize(&code_request(&plain_client, &[])).await;
    assert!(!page.has("login-google"));
    assert_eq!(
        b.get("/login/google?next=/account/password").await.status,
        404
    );
    assert_eq!(
        b.get("/login/google/callback?code=x&state=y").await.status,
        404
    );
}

/// SEC-64: a callback without state, with another browser's state, with a changed state, or
/// replaying a used one → 400, no session, nobody created or linked.
#[tokio::test]
async fn the_callback_accepts_only_this_browsers_state_once() {
    let (provider, app, client) = spawn_federated().await;
    let browser = Browser::new(&app);
    let page = browser.authorize(&code_request(&client, &[])).await;
    let start = browser.click_google(&page).await;
    let callback = browser
        .get(&start.location().unwrap())
        .await
        .location()
        .unwrap();
    let path = callback.trim_start_matches(&app.address).to_owned();
    let (without_state, _) = path.split_once("&state=").unwrap();

    // No cookie at all, then another browser's cookies.
    for other in [Browser::new(&app), {
        let b = Browser::new(&app);
        let p = b.authorize(&code_request(&client, &[])).await;
        b.click_google(&p).await;
        b
    }] {
        let refused = other.get(&path).await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert!(!starts_session(&refused));
    }
    // This browser, without the state and with a changed one.
    for bad in [
        without_state.to_owned(),
        path.replace("&state=", "&state=x"),
    ] {
        let refused = browser.get(&bad).await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
        assert!(refused.has("expired or was not started in this browser"));
        assert!(!starts_session(&refused));
    }
    assert!(app.user_by_email("gina@gmail.com").await.is_none());
    assert_eq!(provider.with(|f| f.token_requests), 0);

    // The real one goes through; replaying it with the cookies it came with does not.
    let cookies: Vec<String> = [&page, &start]
        .iter()
        .flat_map(|p| p.headers.get_all("set-cookie").iter())
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let ok = browser.get(&path).await;
    assert_eq!(ok.status, 302, "{}", ok.body);
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(&path))
        .header("cookie", cookies.join("; "))
        .send()
        .await
        .unwrap();
    let replay = Browser::read(replay).await;
    assert_eq!(replay.status, 400, "{}", replay.body);
    assert!(!starts_session(&replay));
    assert_eq!(provider.with(|f| f.token_requests), 1);
}

/// SEC-65: every way an ID token can be wrong is refused, and nobody is created.
#[tokio::test]
async fn id_tokens_that_fail_verification_are_refused() {
    let (provider, app, client) = spawn_federated().await;
    let cases: Vec<(&str, Tamper)> = vec![
        (
            "wrong iss",
            Tamper {
                iss: Some("https://evil.test".into()),
                ..Default::default()
            },
        ),
        (
            "aud another client",
            Tamper {
                aud: Some(json!("someone-else")),
                ..Default::default()
            },
        ),
        (
            "several audiences, no azp",
            Tamper {
                aud: Some(json!([UPSTREAM_CLIENT_ID, "someone-else"])),
                ..Default::default()
            },
        ),
        (
            "azp another client",
            Tamper {
                aud: Some(json!([UPSTREAM_CLIENT_ID, "someone-else"])),
                azp: Some("someone-else".into()),
                ..Default::default()
            },
        ),
        (
            "expired",
            Tamper {
                exp_offset: -600,
                ..Default::default()
            },
        ),
        (
            "wrong nonce",
            Tamper {
                nonce: Some("not-the-nonce".into()),
                ..Default::default()
            },
        ),
        (
            "alg none",
            Tamper {
                alg_none: true,
                ..Default::default()
            },
        ),
    ];
    for (what, tamper) in cases {
        provider.with(|f| f.tamper = tamper);
        let answer = Browser::new(&app).google_sign_in(&client).await;
        assert_eq!(answer.status, 400, "{what}: {}", answer.body);
        assert!(
            answer.has("could not be verified"),
            "{what}: {}",
            answer.body
        );
        assert!(answer.has("id=\"back\""), "{what}: the way back");
        assert!(!starts_session(&answer), "{what}");
    }
    // A bad signature (the attacker key under the published key's id), then a key the provider
    // does not publish.
    for (what, forged, kid) in [("bad signature", true, "k1"), ("unknown kid", false, "k2")] {
        provider.with(|f| {
            f.tamper = Tamper {
                forged,
                ..Default::default()
            };
            f.signing_kid = kid;
        });
        let answer = Browser::new(&app).google_sign_in(&client).await;
        assert_eq!(answer.status, 400, "{what}: {}", answer.body);
        assert!(!starts_session(&answer), "{what}");
    }
    assert!(app.user_by_email("gina@gmail.com").await.is_none());
}

/// SEC-65: a token signed with a key the provider does not publish yet is refused after one
/// fetch of the keys; more such tokens within a few seconds fetch nothing more; once the key is
/// published (a rotation), the next sign-in fetches the keys again and is accepted.
#[tokio::test]
async fn an_unknown_key_makes_irongate_fetch_the_keys_at_most_once_in_a_while() {
    let (provider, app, client) = spawn_federated().await;
    let first = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(first.status, 302, "{}", first.body);
    let fetched = provider.with(|f| f.jwks_fetches);
    tokio::time::sleep(Duration::from_millis(5200)).await;
    provider.with(|f| f.signing_kid = "k2");
    let refused = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(provider.with(|f| f.jwks_fetches), fetched + 1);
    for _ in 0..3 {
        let refused = Browser::new(&app).google_sign_in(&client).await;
        assert_eq!(refused.status, 400);
    }
    assert_eq!(
        provider.with(|f| f.jwks_fetches),
        fetched + 1,
        "a flood fetches once"
    );
    provider.with(|f| f.published = vec!["k1", "k2"]);
    tokio::time::sleep(Duration::from_millis(5200)).await;
    let accepted = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(accepted.status, 302, "{}", accepted.body);
    assert_eq!(provider.with(|f| f.jwks_fetches), fetched + 2);
}

/// SEC-67: a `jku` header is never fetched, and the token endpoint's redirect is not followed.
#[tokio::test]
async fn nothing_the_answer_names_is_fetched() {
    let (provider, app, client) = spawn_federated().await;
    let canary = format!("{}/elsewhere", provider.base);
    provider.with(|f| f.tamper.jku = Some(canary));
    let answer = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(answer.status, 302, "{}", answer.body);
    assert_eq!(provider.with(|f| f.elsewhere_hits), 0, "jku fetched");

    provider.with(|f| f.token_mode = TokenMode::Redirect);
    let answer = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert!(answer.has("not available right now"));
    assert_eq!(provider.with(|f| f.elsewhere_hits), 0, "redirect followed");
}

/// REL-12: the provider down, failing, answering nonsense or hanging → an error page within a
/// few seconds, with the way back; password sign-in unaffected, even while a callback hangs.
#[tokio::test]
async fn provider_failures_end_on_an_error_page_and_passwords_still_work() {
    let (provider, app, client) = spawn_federated().await;
    provider.with(|f| f.discovery_down = true);
    let browser = Browser::new(&app);
    let page = browser.authorize(&code_request(&client, &[])).await;
    let button = browser.click_google(&page).await;
    assert_eq!(button.status, 502, "{}", button.body);
    assert!(button.has("not available right now") && button.has("id=\"back\""));
    let back = href_of(&button.body, "back").unwrap();
    assert!(back.starts_with(&app.url("/authorize?")), "{back}");
    let signed_in = browser.login(&page, "alice@example.com", PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);

    provider.with(|f| f.discovery_down = false);
    for mode in [TokenMode::Status500, TokenMode::Malformed] {
        provider.with(|f| f.token_mode = mode);
        let answer = Browser::new(&app).google_sign_in(&client).await;
        assert_eq!(answer.status, 502, "{mode:?}: {}", answer.body);
    }
    provider.with(|f| f.token_mode = TokenMode::Hang);
    let hanging = {
        let browser = Browser::new(&app);
        let page = browser.authorize(&code_request(&client, &[])).await;
        let start = browser.click_google(&page).await;
        tokio::spawn(async move {
            let began = Instant::now();
            let answer = browser.through_provider(&start).await;
            (answer.status, began.elapsed())
        })
    };
    // While the callback waits on the provider, a password sign-in goes through.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let other = Browser::new(&app);
    let page = other.authorize(&code_request(&client, &[])).await;
    let began = Instant::now();
    let signed_in = other.login(&page, "alice@example.com", PASSWORD).await;
    assert_eq!(signed_in.status, 303);
    assert!(
        began.elapsed() < Duration::from_secs(3),
        "{:?}",
        began.elapsed()
    );
    let (status, took) = hanging.await.unwrap();
    assert_eq!(status, 502);
    assert!(took < Duration::from_secs(8), "{took:?}");
    assert!(app.user_by_email("gina@gmail.com").await.is_none());
}

/// REL-12: discovery that hangs ends the button on an error page within the request timeout,
/// and the clicks that follow fail at once instead of queueing; an unreachable JWKS is the
/// provider unavailable too.
#[tokio::test]
async fn a_hanging_discovery_or_unreachable_keys_fail_fast() {
    let (provider, app, client) = spawn_federated().await;
    provider.with(|f| f.discovery_hangs = true);
    let browser = Browser::new(&app);
    let page = browser.authorize(&code_request(&client, &[])).await;
    let began = Instant::now();
    let first = browser.click_google(&page).await;
    assert_eq!(first.status, 502, "{}", first.body);
    assert!(
        began.elapsed() < Duration::from_secs(8),
        "{:?}",
        began.elapsed()
    );
    let began = Instant::now();
    let second = browser.click_google(&page).await;
    assert_eq!(second.status, 502);
    assert!(
        began.elapsed() < Duration::from_secs(1),
        "{:?}",
        began.elapsed()
    );

    let (provider, app, client) = spawn_federated().await;
    provider.with(|f| f.jwks_down = true);
    let answer = Browser::new(&app)
        .click_google(
            &Browser::new(&app)
                .authorize(&code_request(&client, &[]))
                .await,
        )
        .await;
    assert_eq!(answer.status, 502, "{}", answer.body);
}

/// SEC-64: the same callback twice at once (the same cookies): one sign-in, one refusal.
#[tokio::test]
async fn two_callbacks_with_one_state_sign_in_once() {
    let (provider, app, client) = spawn_federated().await;
    let browser = Browser::new(&app);
    let page = browser.authorize(&code_request(&client, &[])).await;
    let start = browser.click_google(&page).await;
    let callback = browser
        .get(&start.location().unwrap())
        .await
        .location()
        .unwrap();
    let (a, b) = tokio::join!(browser.get(&callback), browser.get(&callback));
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [302, 400], "{} / {}", a.body, b.body);
    assert_eq!(provider.with(|f| f.token_requests), 1);
}

/// The provider's own refusal (`error=access_denied`) ends on a page that says so without
/// echoing what came back.
#[tokio::test]
async fn a_refusal_at_the_provider_is_shown_without_echo() {
    let (provider, app, client) = spawn_federated().await;
    provider.with(|f| f.deny = true);
    let answer = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(answer.has("cancelled or refused"));
    assert!(!answer.has("access_denied"));
    assert!(!starts_session(&answer));
}

/// OpenID Connect Core §5.4: an ID token without the email claims; they come from userinfo.
#[tokio::test]
async fn the_email_comes_from_userinfo_when_the_id_token_lacks_it() {
    let (provider, app, client) = spawn_federated().await;
    provider.with(|f| f.tamper.no_email_in_id_token = true);
    let answer = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(answer.status, 302, "{}", answer.body);
    let user = app.user_by_email("gina@gmail.com").await.unwrap();
    assert!(user.email_verified);
}

/// `google.allowed_domains`: only accounts whose `hd` is listed sign in.
#[tokio::test]
async fn only_the_allowed_workspace_domains_sign_in() {
    let (provider, app, client) = spawn_federated_with(|s| {
        s.google.as_mut().unwrap().allowed_domains = vec!["example.org".into()];
    })
    .await;
    for hd in [None, Some("evil.org")] {
        provider.with(|f| {
            f.user = json!({"sub": "w-1", "email": "wes@example.org", "email_verified": true});
            if let Some(hd) = hd {
                f.user["hd"] = json!(hd);
            }
        });
        let answer = Browser::new(&app).google_sign_in(&client).await;
        assert_eq!(answer.status, 403, "{hd:?}: {}", answer.body);
        assert!(answer.has("Workspace domain"));
    }
    assert!(app.user_by_email("wes@example.org").await.is_none());
    provider.with(|f| f.user["hd"] = json!("example.org"));
    let answer = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(answer.status, 302, "{}", answer.body);
}

/// The sign-in limits count callbacks per IP too.
#[tokio::test]
async fn callbacks_count_against_the_sign_in_limit_of_their_ip() {
    let (_provider, app, client) = spawn_federated_with(|s| s.login.limit_per_ip = 2).await;
    for _ in 0..2 {
        let answer = Browser::new(&app).google_sign_in(&client).await;
        assert_eq!(answer.status, 302, "{}", answer.body);
    }
    let limited = Browser::new(&app).google_sign_in(&client).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.headers.contains_key("retry-after"));
}
