//! Password change from the command line (SEC-60, CONTRACT "Password change"): the new password
//! works, the old one does not, and every session and token of the user ends.

use crate::helpers::{PASSWORD, spawn_app};

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
