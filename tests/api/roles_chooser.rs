//! The organization chooser page at the authorization endpoint (CONTRACT "Choosing the
//! organization").

use crate::helpers::{Browser, PASSWORD, REDIRECT, TestApp, claims_of, code_request, spawn_app};
use serde_json::json;

/// acme and globex, alice a member of both; a code-flow client that requires an
/// organization. The organizations' ids and the client.
fn setup(app: &TestApp, extra: &[&str]) -> (String, String, crate::helpers::Client) {
    let ok = |args: &[&str]| app.env.cli(args, None).json();
    ok(&["role", "create", "viewer", "--permission", "posts:read"]);
    let acme = ok(&["org", "create", "--slug", "acme", "--name", "Acme"]);
    let globex = ok(&["org", "create", "--slug", "globex", "--name", "Globex"]);
    ok(&["org", "create", "--slug", "initech", "--name", "Initech"]);
    app.create_user("alice@example.com", PASSWORD);
    app.create_user("bob@example.com", PASSWORD);
    ok(&[
        "org",
        "add-member",
        "--org",
        "acme",
        "--email",
        "alice@example.com",
    ]);
    ok(&[
        "org",
        "add-member",
        "--org",
        "globex",
        "--email",
        "alice@example.com",
        "--role",
        "viewer",
    ]);
    let mut args = vec![
        "--redirect-uri",
        REDIRECT,
        "--scope",
        "openid",
        "--scope",
        "email",
        "--scope",
        "roles",
        "--scope",
        "posts:read",
        "--require-organization",
    ];
    args.extend_from_slice(extra);
    let c = app.create_client(&args);
    (
        acme["id"].as_str().unwrap().to_owned(),
        globex["id"].as_str().unwrap().to_owned(),
        c,
    )
}

/// CONTRACT page hook `form#organization`: after the sign-in, a user with several
/// memberships chooses (one button per membership, a CSRF token); the code and its tokens
/// carry the choice. A forged choice is refused (403) and changes nothing.
#[tokio::test]
async fn the_chooser_page_binds_the_organization_to_the_code() {
    let app = spawn_app().await;
    let (_, globex, c) = setup(&app, &[]);
    let browser = Browser::new(&app);
    let params = code_request(&c, &[("scope", "openid roles posts:read")]);
    let login = browser.authorize(&params).await;
    let signed_in = browser.login(&login, "alice@example.com", PASSWORD).await;
    assert_eq!(signed_in.status, 303);
    let chooser = browser.follow(&signed_in).await;
    assert_eq!(chooser.status, 200, "{}", chooser.body);
    assert!(chooser.has("<form id=\"organization\""), "{}", chooser.body);
    assert!(chooser.has("name=\"organization\" value=\"acme\""));
    assert!(chooser.has("name=\"organization\" value=\"globex\""));
    assert!(!chooser.has("initech"), "only the user's organizations");
    assert_eq!(
        chooser.header("x-frame-options"),
        "DENY",
        "the same page headers as every page"
    );

    let forged = browser
        .post(
            "/organization",
            &[
                ("csrf_token", "forged"),
                ("request", &chooser.hidden("request")),
                ("organization", "globex"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);

    let chosen = browser
        .post(
            "/organization",
            &[
                ("csrf_token", &chooser.hidden("csrf_token")),
                ("request", &chooser.hidden("request")),
                ("organization", "globex"),
            ],
        )
        .await;
    assert_eq!(chosen.status, 303, "{}", chosen.body);
    let consent = browser.follow(&chosen).await;
    assert!(
        consent.has("id=\"consent-organization\">Globex<"),
        "the consent page names the organization: {}",
        consent.body
    );
    // The approval is bound to the request it carries, organization included: the same
    // token with the organization changed is refused and changes nothing.
    let request = consent.hidden("request");
    assert!(request.contains("organization=globex"), "{request}");
    let swapped = browser
        .post(
            "/consent",
            &[
                ("csrf_token", &consent.hidden("csrf_token")),
                (
                    "request",
                    &request.replace("organization=globex", "organization=acme"),
                ),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(swapped.status, 403);
    let done = browser.consent(&consent, "allow").await;
    let tokens = app.code_tokens(&c, &done).await;
    let access = claims_of(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["org_id"], json!(globex));
    assert_eq!(access["org_roles"], json!(["viewer"]));
    assert_eq!(access["permissions"], json!(["posts:read"]));
    let id = crate::helpers::id_claims(&tokens);
    assert_eq!(id["org_id"], json!(globex));

    // With `prompt=none` and a choice to make: interaction_required.
    let silent = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert_eq!(silent.redirect_params()["error"], "interaction_required");
}

/// `organization` at the authorization endpoint: a member goes straight on; a non-member (or
/// a user with no membership at a client that requires one) is sent back `access_denied`
/// with `state` and `iss`; one membership skips the chooser.
#[tokio::test]
async fn organization_at_the_authorization_endpoint_is_members_only() {
    let app = spawn_app().await;
    let (acme, _, c) = setup(&app, &["--skip-consent"]);
    let browser = Browser::new(&app);
    let page = browser
        .sign_in_and_approve(
            &code_request(&c, &[("organization", "acme")]),
            "alice@example.com",
        )
        .await;
    let tokens = app.code_tokens(&c, &page).await;
    assert_eq!(
        claims_of(tokens["access_token"].as_str().unwrap())["org_id"],
        json!(acme)
    );

    let denied = browser
        .authorize(&code_request(&c, &[("organization", "initech")]))
        .await;
    let params = denied.redirect_params();
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "af0ifjsldkj");
    assert_eq!(params["iss"], app.address);

    // Bob is a member of nothing.
    let bob = Browser::new(&app);
    let denied = bob
        .sign_in_and_approve(&code_request(&c, &[]), "bob@example.com")
        .await;
    assert_eq!(denied.redirect_params()["error"], "access_denied");

    // One membership: no chooser.
    app.env
        .cli(
            &[
                "org",
                "add-member",
                "--org",
                "acme",
                "--email",
                "bob@example.com",
            ],
            None,
        )
        .json();
    let bob = Browser::new(&app);
    let page = bob
        .sign_in_and_approve(&code_request(&c, &[]), "bob@example.com")
        .await;
    let code = page.redirect_params()["code"].clone();
    let (status, tokens) = app.exchange_code(&c, &code).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(
        claims_of(tokens["access_token"].as_str().unwrap())["org_id"],
        json!(acme)
    );
}
