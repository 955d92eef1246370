//! The API keys account page in headless Chromium (CONTRACT "API keys"): sign in through the
//! account page, make a key (shown once, gone on reload), see it listed, revoke it.

use crate::chromium_driver::{Driver, browser_installed, click, find, sign_in_on_page, wait_for};
use crate::helpers::{PASSWORD, spawn_app};
use fantoccini::Locator;

#[tokio::test]
async fn headless_chromium_makes_lists_and_revokes_an_api_key() {
    if !browser_installed() {
        return;
    }
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let app = spawn_app().await;
    app.env.alice_the_editor();
    let driver = Driver::start().await;
    let chrome = driver.session().await;

    chrome
        .goto(&format!("{}/account/api-keys", app.address))
        .await
        .expect("open the account page");
    wait_for(&chrome, "form#login", 10).await;
    sign_in_on_page(&chrome, "alice@example.com", PASSWORD).await;

    wait_for(&chrome, "form#create-api-key", 10).await;
    find(&chrome, "form#create-api-key input#name")
        .await
        .send_keys("chromium")
        .await
        .unwrap();
    click(
        &chrome,
        "form#create-api-key input[name=scope][value=\"posts:read\"]",
    )
    .await;
    click(&chrome, "form#create-api-key button[type=submit]").await;
    let shown = wait_for(&chrome, "#new-api-key #new-api-key-value", 10).await;
    let key = shown.text().await.unwrap();
    assert!(key.starts_with("igk_") && key.len() == 40, "{key}");
    let listed = app
        .env
        .cli(&["api-key", "list", "--email", "alice@example.com"], None)
        .json();
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let row = format!("table#api-keys tr[data-key-id=\"{id}\"]");
    wait_for(&chrome, &row, 10).await;

    chrome.refresh().await.expect("reload");
    wait_for(&chrome, &row, 10).await;
    assert!(
        chrome.find(Locator::Css("#new-api-key")).await.is_err(),
        "the key is shown once, gone on reload"
    );
    assert!(!chrome.source().await.unwrap().contains(&key));

    click(&chrome, &format!("{row} form.revoke-api-key button")).await;
    wait_for(&chrome, "form#create-api-key", 10).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let listed = app
            .env
            .cli(&["api-key", "list", "--email", "alice@example.com"], None)
            .json();
        if listed[0]["revoked_at"].is_i64() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the key was revoked");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    chrome.close().await.expect("end the WebDriver session");
}
