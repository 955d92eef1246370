//! Calling the admin REST API: tokens that may (or may not) use it, and JSON requests.

use super::app::TestApp;
use super::fixtures::PASSWORD;
use super::tokens::json_of;
use reqwest::Method;
use serde_json::Value;

/// An answer: status, headers, JSON body (Null when there is none).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The `WWW-Authenticate` header, or "".
    pub fn challenge(&self) -> String {
        self.headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }

    pub fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
}

impl TestApp {
    /// `method` on `/admin/v1{path}` with `token` (none when empty) and a JSON `body`.
    pub async fn admin(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method, self.url(&format!("/admin/v1{path}")));
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let resp = request.send().await.unwrap();
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// A client_credentials token with `scope` (`irongate:admin`, `irongate:read`, …).
    pub async fn service_token(&self, scope: &str) -> String {
        let client = self.create_client(&["--grant-type", "client_credentials", "--scope", scope]);
        let (status, _, body) = json_of(
            self.post_token(
                Some((&client.id, &client.secret)),
                &[("grant_type", "client_credentials"), ("scope", scope)],
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A user `email` holding a role with `permission`, and a password-grant token of theirs
    /// asking for `scope`.
    pub async fn user_token_with(&self, email: &str, permission: &str, scope: &str) -> String {
        let role = format!("holds-{}", permission.replace(':', "-"));
        self.env
            .cli(&["role", "create", &role, "--permission", permission], None)
            .json();
        self.env
            .cli(
                &[
                    "user",
                    "create",
                    "--email",
                    email,
                    "--password-stdin",
                    "--role",
                    &role,
                ],
                Some(PASSWORD),
            )
            .json();
        let client = self.create_client(&["--grant-type", "password", "--scope", scope]);
        let (status, _, body) = json_of(
            self.post_token(
                Some((&client.id, &client.secret)),
                &[
                    ("grant_type", "password"),
                    ("username", email),
                    ("password", PASSWORD),
                    ("scope", scope),
                ],
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }
}
