//! Consent (SEC-53): explicit, remembered per user, client and scope set, asked again when the
//! scopes grow or `prompt=consent` says so, and good only for the request it was rendered for.

use crate::helpers::{Browser, REDIRECT, code_request, error_of, spawn_session_app};

/// SEC-53: consent is explicit and remembered per user, client and scope set; more scopes ask
/// again; `prompt=consent` always asks; deny is `access_denied` with state and iss; a consent
/// form is good only for the request it was rendered for.
#[tokio::test]
async fn consent_is_remembered_per_user_client_and_scopes_sec_53() {
    let (app, c) = spawn_session_app().await;
    let browser = Browser::new(&app);
    app.sign_in_tokens(&c, &browser, &[("scope", "openid")])
        .await;
    // Remembered for the same scopes.
    let page = browser
        .authorize(&code_request(&c, &[("scope", "openid")]))
        .await;
    assert_eq!(page.status, 302);
    // Asked again when they grow, listing each.
    let page = browser
        .authorize(&code_request(&c, &[("scope", "openid email")]))
        .await;
    assert!(page.has("data-scope=\"email\""), "{}", page.body);
    let with_prompt_none = browser
        .authorize(&code_request(
            &c,
            &[("scope", "openid email"), ("prompt", "none")],
        ))
        .await;
    assert_eq!(error_of(&with_prompt_none), "consent_required");
    // Deny.
    let denied = browser.consent(&page, "deny").await;
    assert_eq!(denied.status, 303);
    let params = denied.redirect_params();
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "af0ifjsldkj");
    assert_eq!(params["iss"], app.address);
    assert!(!params.contains_key("code"));
    // A form rendered for request A, posted with request B's parameters.
    let page_a = browser
        .authorize(&code_request(&c, &[("scope", "openid email")]))
        .await;
    let other = code_request(&c, &[("scope", "openid email profile"), ("state", "B")]);
    let request_b = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&other)
        .finish();
    let forged = browser
        .post(
            "/consent",
            &[
                ("csrf_token", &page_a.hidden("csrf_token")),
                ("request", &request_b),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(forged.location().is_none());
    // prompt=consent asks even when remembered, and even for --skip-consent clients.
    let page = browser
        .authorize(&code_request(
            &c,
            &[("scope", "openid"), ("prompt", "consent")],
        ))
        .await;
    assert!(page.has("<form id=\"consent\""));
    let first_party = app.create_client(&["--redirect-uri", REDIRECT, "--skip-consent"]);
    let page = browser.authorize(&code_request(&first_party, &[])).await;
    assert_eq!(page.status, 302, "skip-consent asks nothing");
    let page = browser
        .authorize(&code_request(&first_party, &[("prompt", "consent")]))
        .await;
    assert!(page.has("<form id=\"consent\""));
}
