//! The posts example (`irongate-verify/examples/posts.rs`) end to end against a real irongate:
//! owners edit their posts, others get 403, the admin role edits anyone's, a missing permission
//! is 403 naming it, `X-Organization-ID` must be the token's, and API keys work through the
//! exchange.

#[allow(dead_code)]
#[path = "../../irongate-verify/examples/posts.rs"]
mod posts;

use crate::helpers::*;
use actix_web::{App, HttpServer, web};
use serde_json::{Value, json};

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// The example on a random port, verifying for `app`, with a client for keys and the feed.
async fn start_posts(app: &TestApp) -> String {
    let client = app.create_client(&["--grant-type", EXCHANGE]);
    let verifier = posts::verifier(&app.address, &app.address, Some((client.id, client.secret)))
        .await
        .unwrap();
    let (verifier, store) = (
        web::Data::new(verifier),
        web::Data::new(posts::Posts::default()),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(verifier.clone())
            .app_data(store.clone())
            .configure(posts::configure)
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    base
}

/// A password-grant token of `email` for `scope` (and `organization`, when given).
async fn token(
    app: &TestApp,
    client: &Client,
    email: &str,
    scope: &str,
    org: Option<&str>,
) -> String {
    let mut form = vec![
        ("grant_type", "password"),
        ("username", email),
        ("password", PASSWORD),
        ("scope", scope),
    ];
    if let Some(org) = org {
        form.push(("organization", org));
    }
    let (status, _, body) = json_of(
        app.post_token(Some((&client.id, &client.secret)), &form)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

struct Answer {
    status: u16,
    challenge: String,
    body: Value,
}

async fn call(
    method: reqwest::Method,
    url: String,
    auth: (&str, &str),
    body: Option<Value>,
) -> Answer {
    let mut r = reqwest::Client::new().request(method, url);
    if !auth.1.is_empty() {
        r = r.header(auth.0, auth.1);
    }
    if let Some(body) = body {
        r = r.json(&body);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        challenge,
        body,
    }
}

#[tokio::test]
async fn the_posts_example_end_to_end() {
    use reqwest::Method;
    let app = spawn_app().await;
    let env = &app.env;
    env.cli(
        &["role", "create", "writer", "--permission", "posts:write"],
        None,
    )
    .json();
    env.cli(&["role", "create", "admin", "--inherits", "writer"], None)
        .json();
    for (email, role) in [
        ("alice@example.com", "writer"),
        ("bob@example.com", "writer"),
        ("carol@example.com", "admin"),
    ] {
        env.cli(
            &[
                "user",
                "create",
                "--email",
                email,
                "--password-stdin",
                "--role",
                role,
            ],
            Some(PASSWORD),
        )
        .json();
    }
    env.cli(&["org", "create", "--slug", "acme", "--name", "Acme"], None)
        .json();
    env.cli(
        &[
            "org",
            "add-member",
            "--org",
            "acme",
            "--email",
            "alice@example.com",
            "--role",
            "writer",
        ],
        None,
    )
    .json();
    let client = app.create_client(&[
        "--grant-type",
        "password",
        "--scope",
        "openid",
        "--scope",
        "posts:write",
    ]);
    let posts = start_posts(&app).await;
    let url = |path: &str| format!("{posts}{path}");
    let bearer = |t: &str| format!("Bearer {t}");
    let alice = token(
        &app,
        &client,
        "alice@example.com",
        "openid posts:write",
        None,
    )
    .await;
    let bob = token(&app, &client, "bob@example.com", "openid posts:write", None).await;
    let carol = token(
        &app,
        &client,
        "carol@example.com",
        "openid posts:write",
        None,
    )
    .await;
    let alice_id = app.user_by_email("alice@example.com").await.unwrap().id;

    let me = call(
        Method::GET,
        url("/users/me"),
        ("authorization", &bearer(&alice)),
        None,
    )
    .await;
    assert_eq!(
        (me.status, me.body["sub"].as_str()),
        (200, Some(alice_id.as_str()))
    );
    assert_eq!(
        call(Method::GET, url("/users/me"), ("authorization", ""), None)
            .await
            .status,
        401
    );

    let post = json!({"title": "t", "body": "b"});
    let made = call(
        Method::POST,
        url("/posts"),
        ("authorization", &bearer(&alice)),
        Some(post.clone()),
    )
    .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    assert_eq!(made.body["author_id"], alice_id.as_str());
    let id = made.body["id"].as_u64().unwrap();
    let edit = |who: &str| {
        let (target, body, auth) = (url(&format!("/posts/{id}")), post.clone(), bearer(who));
        async move {
            call(Method::PUT, target, ("authorization", &auth), Some(body))
                .await
                .status
        }
    };
    assert_eq!(edit(&alice).await, 200, "the owner edits");
    assert_eq!(edit(&bob).await, 403, "someone else may not");
    assert_eq!(edit(&carol).await, 200, "the admin role edits anyone's");
    let unknown = call(
        Method::PUT,
        url("/posts/999"),
        ("authorization", &bearer(&alice)),
        Some(post.clone()),
    )
    .await;
    assert_eq!(unknown.status, 404);

    // A token without posts:write: 403 naming it.
    let reader = token(&app, &client, "alice@example.com", "openid", None).await;
    let refused = call(
        Method::POST,
        url("/posts"),
        ("authorization", &bearer(&reader)),
        Some(post.clone()),
    )
    .await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.challenge.contains("insufficient_scope")
            && refused.challenge.contains("scope=\"posts:write\""),
        "{}",
        refused.challenge
    );

    assert_eq!(
        call(
            Method::GET,
            url("/admin/users"),
            ("authorization", &bearer(&carol)),
            None
        )
        .await
        .status,
        200
    );
    assert_eq!(
        call(
            Method::GET,
            url("/admin/users"),
            ("authorization", &bearer(&alice)),
            None
        )
        .await
        .status,
        403
    );

    // Organizations: none in the token → 403; inside acme → its id and roles; a header naming
    // another organization → 403.
    assert_eq!(
        call(
            Method::GET,
            url("/orgs/current"),
            ("authorization", &bearer(&alice)),
            None
        )
        .await
        .status,
        403
    );
    let in_acme = token(
        &app,
        &client,
        "alice@example.com",
        "openid posts:write",
        Some("acme"),
    )
    .await;
    let current = call(
        Method::GET,
        url("/orgs/current"),
        ("authorization", &bearer(&in_acme)),
        None,
    )
    .await;
    assert_eq!(current.status, 200, "{:?}", current.body);
    assert_eq!(current.body["org_roles"], json!(["writer"]));
    let org_id = current.body["org_id"].as_str().unwrap().to_owned();
    let mismatch = reqwest::Client::new()
        .get(url("/orgs/current"))
        .bearer_auth(&in_acme)
        .header("x-organization-id", "another-org")
        .send()
        .await
        .unwrap();
    assert_eq!(mismatch.status(), 403);
    let matching = reqwest::Client::new()
        .get(url("/orgs/current"))
        .bearer_auth(&in_acme)
        .header("x-organization-id", &org_id)
        .send()
        .await
        .unwrap();
    assert_eq!(matching.status(), 200);

    // An API key, through the exchange.
    let key = env
        .cli(
            &[
                "api-key",
                "create",
                "--email",
                "alice@example.com",
                "--name",
                "ci",
                "--scope",
                "posts:write",
            ],
            None,
        )
        .json();
    let key = key["key"].as_str().unwrap();
    let by_key = call(
        Method::POST,
        url("/posts"),
        ("x-api-key", key),
        Some(post.clone()),
    )
    .await;
    assert_eq!(by_key.status, 201, "{:?}", by_key.body);
    assert_eq!(by_key.body["author_id"], alice_id.as_str());
    let again = call(Method::GET, url("/users/me"), ("x-api-key", key), None).await;
    assert!(again.body["api_key_id"].is_string(), "{:?}", again.body);
    let bad_key = call(
        Method::GET,
        url("/users/me"),
        ("x-api-key", "igk_nope"),
        None,
    )
    .await;
    assert_eq!(bad_key.status, 401);
    let both = reqwest::Client::new()
        .get(url("/users/me"))
        .bearer_auth(&alice)
        .header("x-api-key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 400);
    let huge = reqwest::Client::new()
        .get(url("/users/me"))
        .bearer_auth("a".repeat(100 * 1024))
        .send()
        .await
        .unwrap();
    assert!(huge.status().is_client_error(), "{}", huge.status());
}
