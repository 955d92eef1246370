//! The account page for API keys, `/account/api-keys` (CONTRACT "API keys"): reached through
//! the login page, lists, creates (the key shown once), revokes; CSRF on every form.

use crate::helpers::{Browser, PASSWORD, Page, TestApp, spawn_app};

/// Alice with the role `editor` (posts:read, posts:write); a browser signed in through the
/// account page (which sends it to the login page and back).
async fn signed_in() -> (TestApp, Browser, Page) {
    let app = spawn_app().await;
    app.env.alice_the_editor();
    let browser = Browser::new(&app);
    let start = browser.get("/account/api-keys").await;
    assert_eq!(start.status, 302, "{}", start.body);
    let login_url = start.location().unwrap();
    assert!(
        login_url.ends_with("/login?next=/account/api-keys"),
        "{login_url}"
    );
    let login = browser.get(&login_url).await;
    let done = browser
        .post(
            "/login",
            &[
                ("csrf_token", &login.hidden("csrf_token")),
                ("next", &login.hidden("next")),
                ("username", "alice@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = browser.follow(&done).await;
    assert_eq!(page.status, 200, "{}", page.body);
    (app, browser, page)
}

/// The key a page shows once in `#new-api-key`.
fn shown_key(page: &Page) -> Option<String> {
    let at = page.body.find("id=\"new-api-key-value\">")?;
    let rest = &page.body[at + "id=\"new-api-key-value\">".len()..];
    Some(rest[..rest.find('<')?].to_owned())
}

/// The page's hooks; a key made on it is shown once and then only listed; revoking it through
/// its row's form ends it.
#[tokio::test]
async fn the_page_creates_shows_once_lists_and_revokes() {
    let (app, browser, page) = signed_in().await;
    for hook in [
        "<table id=\"api-keys\"",
        "<form id=\"create-api-key\"",
        "id=\"name\"",
        "name=\"scope\" value=\"posts:read\"",
        "name=\"scope\" value=\"posts:write\"",
        "<select id=\"expires\"",
        "name=\"csrf_token\"",
    ] {
        assert!(page.has(hook), "{hook}: {}", page.body);
    }
    let csrf = page.hidden("csrf_token");
    let created = browser
        .post(
            "/account/api-keys",
            &[
                ("csrf_token", csrf.as_str()),
                ("name", "laptop script"),
                ("scope", "posts:read"),
                ("expires", "7776000"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let shown = browser.follow(&created).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    let key = shown_key(&shown).expect("the new key is shown");
    assert!(key.starts_with("igk_") && key.len() == 40, "{key}");
    let listed = app
        .env
        .cli(&["api-key", "list", "--email", "alice@example.com"], None)
        .json();
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(listed[0]["scopes"], serde_json::json!(["posts:read"]));
    assert_eq!(listed[0]["name"], "laptop script");

    let again = browser.get("/account/api-keys").await;
    assert!(shown_key(&again).is_none(), "shown once, never again");
    assert!(!again.body.contains(&key));
    assert!(again.has(&format!("data-key-id=\"{id}\"")));
    assert!(again.has("class=\"revoke-api-key\""));

    let revoked = browser
        .post(
            "/account/api-keys/revoke",
            &[("csrf_token", csrf.as_str()), ("id", id.as_str())],
        )
        .await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    let after = browser.follow(&revoked).await;
    assert!(!after.has("class=\"revoke-api-key\""), "no live key left");
    let listed = app
        .env
        .cli(&["api-key", "list", "--email", "alice@example.com"], None)
        .json();
    assert!(listed[0]["revoked_at"].is_i64());
}

/// Refusals: a forged CSRF token (403, nothing made), a scope the user does not have or no
/// expiry choice (400 on the page), another user's key (404).
#[tokio::test]
async fn refusals_change_nothing() {
    let (app, browser, page) = signed_in().await;
    let csrf = page.hidden("csrf_token");
    let forged = browser
        .post(
            "/account/api-keys",
            &[
                ("csrf_token", "forged"),
                ("name", "k"),
                ("expires", "7776000"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    let beyond = browser
        .post(
            "/account/api-keys",
            &[
                ("csrf_token", csrf.as_str()),
                ("name", "k"),
                ("scope", "users:write"),
                ("expires", "7776000"),
            ],
        )
        .await;
    assert_eq!(beyond.status, 400);
    assert!(
        beyond.has("users:write"),
        "the error names the scope: {}",
        beyond.body
    );
    let no_expiry = browser
        .post(
            "/account/api-keys",
            &[
                ("csrf_token", csrf.as_str()),
                ("name", "k"),
                ("expires", "12"),
            ],
        )
        .await;
    assert_eq!(no_expiry.status, 400);
    let listed = app
        .env
        .cli(&["api-key", "list", "--email", "alice@example.com"], None)
        .json();
    assert_eq!(listed, serde_json::json!([]), "nothing was made");

    app.create_user("bob@example.com", PASSWORD);
    let bobs = app
        .env
        .cli(
            &[
                "api-key",
                "create",
                "--email",
                "bob@example.com",
                "--name",
                "b",
            ],
            None,
        )
        .json();
    let other = browser
        .post(
            "/account/api-keys/revoke",
            &[
                ("csrf_token", csrf.as_str()),
                ("id", bobs["id"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(other.status, 404);
    let listed = app
        .env
        .cli(&["api-key", "list", "--email", "bob@example.com"], None)
        .json();
    assert!(listed[0]["revoked_at"].is_null(), "Bob's key stands");
}
