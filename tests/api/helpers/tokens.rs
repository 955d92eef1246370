//! The token endpoint and its neighbours over HTTP: form POSTs with client authentication, the
//! password, client_credentials and refresh grants, revocation, and a userinfo probe.

use super::app::TestApp;
use super::fixtures::{Client, PASSWORD};
use serde_json::Value;

/// Status, headers and JSON body of a response.
pub async fn json_of(resp: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap())
}

impl TestApp {
    /// POSTs a form to the token endpoint.
    pub async fn post_token(
        &self,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_to("/token", basic, form).await
    }

    /// POSTs a form to `path`, with HTTP Basic client authentication when given.
    pub async fn post_to(
        &self,
        path: &str,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self.http.post(self.url(path)).form(form);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        req.send().await.unwrap()
    }

    /// A client_credentials access token for `c`.
    pub async fn client_token(&self, c: &Client) -> String {
        let (status, _, body) = json_of(
            self.post_token(
                Some((&c.id, &c.secret)),
                &[("grant_type", "client_credentials")],
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Signs Alice in with the password grant; returns the token response.
    pub async fn password_login(&self, c: &Client, scope: &str) -> Value {
        let (status, _, body) = json_of(
            self.post_token(
                Some((&c.id, &c.secret)),
                &[
                    ("grant_type", "password"),
                    ("username", "alice@example.com"),
                    ("password", PASSWORD),
                    ("scope", scope),
                ],
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// One password-grant attempt for Alice; returns status, `Retry-After` and the error code.
    pub async fn password_attempt(
        &self,
        c: &Client,
        password: &str,
        forwarded_for: Option<&str>,
    ) -> (u16, Option<u64>, Option<String>) {
        let mut req = self
            .http
            .post(self.url("/token"))
            .basic_auth(&c.id, Some(&c.secret))
            .form(&[
                ("grant_type", "password"),
                ("username", "alice@example.com"),
                ("password", password),
            ]);
        if let Some(xff) = forwarded_for {
            req = req.header("x-forwarded-for", xff);
        }
        let (status, headers, body) = json_of(req.send().await.unwrap()).await;
        let retry = headers
            .get("retry-after")
            .map(|v| v.to_str().unwrap().parse().unwrap());
        (status, retry, body["error"].as_str().map(str::to_owned))
    }

    /// The refresh_token grant (asserting `Cache-Control: no-store`); status and body.
    pub async fn refresh(&self, c: &Client, token: &str, scope: Option<&str>) -> (u16, Value) {
        let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let (status, headers, body) =
            json_of(self.post_token(Some((&c.id, &c.secret)), &form).await).await;
        assert_eq!(headers["cache-control"], "no-store");
        (status, body)
    }

    /// Revokes `token` as `c` (RFC 7009); the status.
    pub async fn revoke(&self, c: &Client, token: &str) -> u16 {
        self.post_to("/revoke", Some((&c.id, &c.secret)), &[("token", token)])
            .await
            .status()
            .as_u16()
    }

    /// The status of a userinfo request with `access_token`.
    pub async fn userinfo_status(&self, access_token: &str) -> u16 {
        self.http
            .get(self.url("/userinfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}
