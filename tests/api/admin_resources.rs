//! The admin REST API's clients, roles, organizations and signing keys.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn clients_are_registered_read_without_secret_rotated_and_deleted() {
    let app = spawn_app().await;
    let admin = app.service_token("irongate:admin").await;
    let made = app
        .admin(
            &admin,
            Method::POST,
            "/clients",
            Some(json!({"name": "svc", "grant_types": ["client_credentials"], "scopes": ["posts:read"]})),
        )
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let id = made.body["client_id"].as_str().unwrap().to_owned();
    let old = made.body["client_secret"].as_str().unwrap().to_owned();
    let token = |secret: String| {
        let (app, id) = (&app, id.clone());
        async move {
            app.token_status(&id, &secret, &[("grant_type", "client_credentials")])
                .await
        }
    };
    assert_eq!(token(old.clone()).await, 200);
    let got = app
        .admin(&admin, Method::GET, &format!("/clients/{id}"), None)
        .await;
    assert_eq!(got.status, 200);
    assert!(got.body.get("client_secret").is_none(), "{:?}", got.body);
    assert_eq!(got.body["grant_types"], json!(["client_credentials"]));
    let listed = app
        .admin(&admin, Method::GET, "/clients?limit=200", None)
        .await;
    assert!(
        listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["client_id"] == id.as_str())
    );
    assert!(!listed.body.to_string().contains("client_secret"));

    let rotated = app
        .admin(&admin, Method::POST, &format!("/clients/{id}/secret"), None)
        .await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let new = rotated.body["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(token(old).await, 401, "the old secret is dead at once");
    assert_eq!(token(new.clone()).await, 200);
    let deleted = app
        .admin(&admin, Method::DELETE, &format!("/clients/{id}"), None)
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(token(new).await, 401);
    assert_eq!(
        app.admin(&admin, Method::GET, &format!("/clients/{id}"), None)
            .await
            .status,
        404
    );

    let public = app
        .admin(
            &admin,
            Method::POST,
            "/clients",
            Some(json!({"name": "spa", "public": true, "redirect_uris": ["https://spa.test/cb"]})),
        )
        .await;
    assert_eq!(public.status, 201, "{:?}", public.body);
    let pid = public.body["client_id"].as_str().unwrap();
    let no_secret = app
        .admin(
            &admin,
            Method::POST,
            &format!("/clients/{pid}/secret"),
            None,
        )
        .await;
    assert_eq!(no_secret.status, 400);
    for (body, field) in [
        (
            json!({"name": "x", "redirect_uris": ["not a uri"]}),
            "redirect_uris",
        ),
        (
            json!({"name": "x", "grant_types": ["implicit"]}),
            "grant_types",
        ),
        (json!({"name": "x", "scopes": ["no-such-scope"]}), "scopes"),
        (
            json!({"name": "x", "grant_types": ["client_credentials"], "post_logout_redirect_uris": ["nope"]}),
            "post_logout_redirect_uris",
        ),
        (json!({"name": " "}), "name"),
        (json!({"redirect_uris": []}), "name"),
        (json!({"name": "x", "public": "yes"}), "public"),
    ] {
        let r = app
            .admin(&admin, Method::POST, "/clients", Some(body.clone()))
            .await;
        assert_eq!(r.status, 400, "{body}: {:?}", r.body);
        assert_eq!(r.content_type(), "application/problem+json");
        assert_eq!(r.body["field"], field, "{body}: {:?}", r.body);
    }
}

#[tokio::test]
async fn roles_are_created_read_updated_and_deleted_and_cycles_are_refused() {
    let app = spawn_app().await;
    let admin = app.service_token("irongate:admin").await;
    let post = |body: serde_json::Value| app.admin(&admin, Method::POST, "/roles", Some(body));
    assert_eq!(
        post(json!({"name": "reader", "permissions": ["posts:read"]}))
            .await
            .status,
        201
    );
    let writer =
        post(json!({"name": "writer", "permissions": ["posts:write"], "inherits": ["reader"]}))
            .await;
    assert_eq!(writer.status, 201, "{:?}", writer.body);
    assert_eq!(writer.body["inherits"], json!(["reader"]));
    assert_eq!(post(json!({"name": "reader"})).await.status, 409);
    let unknown = post(json!({"name": "x", "inherits": ["nobody"]})).await;
    assert_eq!(
        (unknown.status, unknown.body["field"].as_str()),
        (400, Some("inherits"))
    );
    let bad = post(json!({"name": "x", "permissions": ["made:up"]})).await;
    assert_eq!(
        (bad.status, bad.body["field"].as_str()),
        (400, Some("permissions"))
    );
    for body in [
        json!({"name": 7}),
        json!({"permissions": []}),
        json!({"name": "y", "colour": 1}),
    ] {
        assert_eq!(post(body.clone()).await.status, 400, "{body}");
    }
    let patch = app
        .admin(
            &admin,
            Method::PATCH,
            "/roles/reader",
            Some(json!({"inherits": "writer"})),
        )
        .await;
    assert_eq!(
        (patch.status, patch.body["field"].as_str()),
        (400, Some("inherits"))
    );
    assert_eq!(
        app.admin(&admin, Method::PATCH, "/roles/nobody", Some(json!({})))
            .await
            .status,
        404
    );
    assert_eq!(
        app.admin(&admin, Method::GET, "/roles/%20", None)
            .await
            .status,
        404
    );

    let got = app.admin(&admin, Method::GET, "/roles/writer", None).await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.body["effective_permissions"],
        json!(["posts:read", "posts:write"])
    );
    let cycle = app
        .admin(
            &admin,
            Method::PATCH,
            "/roles/reader",
            Some(json!({"inherits": ["writer"]})),
        )
        .await;
    assert_eq!(cycle.status, 409, "{:?}", cycle.body);
    assert!(cycle.body["detail"].as_str().unwrap().contains("cycle"));
    let still = app.admin(&admin, Method::GET, "/roles/reader", None).await;
    assert_eq!(still.body["inherits"], json!([]), "nothing changed");
    let changed = app
        .admin(
            &admin,
            Method::PATCH,
            "/roles/reader",
            Some(json!({"permissions": ["posts:read", "users:read"]})),
        )
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    let page = app.admin(&admin, Method::GET, "/roles?limit=1", None).await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    assert!(page.body["next"].is_string());
    assert_eq!(
        app.admin(&admin, Method::DELETE, "/roles/writer", None)
            .await
            .status,
        200
    );
    assert_eq!(
        app.admin(&admin, Method::DELETE, "/roles/writer", None)
            .await
            .status,
        404
    );
    assert_eq!(
        app.admin(&admin, Method::GET, "/roles/writer", None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn organizations_and_their_members() {
    let app = spawn_app().await;
    let admin = app.service_token("irongate:admin").await;
    let alice = app.env.alice_the_editor();
    let made = app
        .admin(
            &admin,
            Method::POST,
            "/organizations",
            Some(json!({"slug": "acme", "name": "Acme"})),
        )
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let org = made.body["id"].as_str().unwrap().to_owned();
    let dup = app
        .admin(
            &admin,
            Method::POST,
            "/organizations",
            Some(json!({"slug": "acme", "name": "Other"})),
        )
        .await;
    assert_eq!(dup.status, 409);
    let bad = app
        .admin(
            &admin,
            Method::POST,
            "/organizations",
            Some(json!({"slug": "Not A Slug", "name": "x"})),
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["field"].as_str()),
        (400, Some("slug"))
    );

    let member = app
        .admin(
            &admin,
            Method::PUT,
            &format!("/organizations/acme/members/{alice}"),
            Some(json!({"roles": ["editor"]})),
        )
        .await;
    assert_eq!(member.status, 200, "{:?}", member.body);
    assert_eq!(member.body["roles"], json!(["editor"]));
    let again = app
        .admin(
            &admin,
            Method::PUT,
            &format!("/organizations/{org}/members/{alice}"),
            Some(json!({"roles": []})),
        )
        .await;
    assert_eq!(again.body["roles"], json!([]), "PUT replaces the roles");
    let unknown_role = app
        .admin(
            &admin,
            Method::PUT,
            &format!("/organizations/{org}/members/{alice}"),
            Some(json!({"roles": ["ghost"]})),
        )
        .await;
    assert_eq!(
        (unknown_role.status, unknown_role.body["field"].as_str()),
        (400, Some("roles"))
    );
    let twice = app
        .admin(
            &admin,
            Method::PUT,
            &format!("/organizations/{org}/members/{alice}"),
            Some(json!({"roles": ["editor", "editor"]})),
        )
        .await;
    assert_eq!(
        (twice.status, twice.body["roles"].clone()),
        (200, json!(["editor"]))
    );
    for body in [json!({"roles": "editor"}), json!({"role": []})] {
        let r = app
            .admin(
                &admin,
                Method::PUT,
                &format!("/organizations/{org}/members/{alice}"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(r.status, 400, "{body}");
    }
    let no_name = app
        .admin(
            &admin,
            Method::POST,
            "/organizations",
            Some(json!({"slug": "beta"})),
        )
        .await;
    assert_eq!(
        (no_name.status, no_name.body["field"].as_str()),
        (400, Some("name"))
    );
    let got = app
        .admin(&admin, Method::GET, "/organizations/acme", None)
        .await;
    assert_eq!(
        (got.body["id"].as_str(), got.body["members"].as_i64()),
        (Some(org.as_str()), Some(1))
    );
    let memberships = app
        .admin(
            &admin,
            Method::GET,
            &format!("/users/{alice}/memberships"),
            None,
        )
        .await;
    assert_eq!(memberships.body["items"][0]["slug"], "acme");
    let in_org = app
        .admin(
            &admin,
            Method::PUT,
            &format!("/users/{alice}/roles"),
            Some(json!({"roles": ["editor"], "org": "acme"})),
        )
        .await;
    assert_eq!(
        (in_org.status, in_org.body["org_id"].as_str()),
        (200, Some(org.as_str()))
    );

    let out = app
        .admin(
            &admin,
            Method::DELETE,
            &format!("/organizations/{org}/members/{alice}"),
            None,
        )
        .await;
    assert_eq!(out.status, 200);
    let out_again = app
        .admin(
            &admin,
            Method::DELETE,
            &format!("/organizations/{org}/members/{alice}"),
            None,
        )
        .await;
    assert_eq!(out_again.status, 404);
    let not_member = app
        .admin(
            &admin,
            Method::PUT,
            &format!("/users/{alice}/roles"),
            Some(json!({"roles": [], "org": "acme"})),
        )
        .await;
    assert_eq!(not_member.status, 400);
    assert_eq!(
        app.admin(
            &admin,
            Method::DELETE,
            &format!("/organizations/{org}"),
            None
        )
        .await
        .status,
        200
    );
    assert_eq!(
        app.admin(&admin, Method::GET, "/organizations/acme", None)
            .await
            .status,
        404
    );
    let list = app.admin(&admin, Method::GET, "/organizations", None).await;
    assert_eq!(list.body, json!({"items": [], "next": null}));
}

#[tokio::test]
async fn signing_keys_are_listed_and_rotated() {
    let app = spawn_app().await;
    let admin = app.service_token("irongate:admin").await;
    let before = app.admin(&admin, Method::GET, "/keys", None).await;
    assert_eq!(before.status, 200);
    let old = before.body["items"][0]["kid"].as_str().unwrap().to_owned();
    let rotated = app.admin(&admin, Method::POST, "/keys/rotate", None).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let kid = rotated.body["kid"].as_str().unwrap();
    assert_ne!(kid, old);
    let after = app.admin(&admin, Method::GET, "/keys", None).await;
    assert_eq!(after.body["items"][0]["kid"], kid);
    assert_eq!(after.body["items"][0]["active"], true);
    let jwks = app.jwks().await;
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid)
    );
    let page = app.admin(&admin, Method::GET, "/keys?limit=1", None).await;
    let next = page.body["next"].as_str().unwrap();
    let rest = app
        .admin(
            &admin,
            Method::GET,
            &format!("/keys?limit=1&after={next}"),
            None,
        )
        .await;
    assert_eq!(rest.body["items"][0]["kid"], old.as_str());
}

/// A secret rotated through one node is dead on another node within a second (its client
/// cache lives one second).
#[tokio::test]
async fn a_rotated_secret_dies_on_another_node_within_a_second() {
    let app = spawn_app().await;
    let other = app.second_node().await;
    let admin = app.service_token("irongate:admin").await;
    let client = app.create_client(&["--grant-type", "client_credentials"]);
    let status_on = |secret: String| {
        let (node, id) = (&other, client.id.clone());
        async move {
            node.token_status(&id, &secret, &[("grant_type", "client_credentials")])
                .await
        }
    };
    assert_eq!(status_on(client.secret.clone()).await, 200);
    let rotated = app
        .admin(
            &admin,
            Method::POST,
            &format!("/clients/{}/secret", client.id),
            None,
        )
        .await;
    assert_eq!(rotated.status, 200);
    let started = std::time::Instant::now();
    while status_on(client.secret.clone()).await == 200 {
        assert!(
            started.elapsed() < std::time::Duration::from_millis(1500),
            "the old secret still works on the other node"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let new = rotated.body["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(status_on(new).await, 200);
}
