//! The token endpoint and its neighbours over HTTP: form POSTs with client authentication, the
//! password, client_credentials and refresh grants, revocation, and a userinfo probe.

use super::app::TestApp;
use super::fixtures::{ATTACKER_KEY, Client, PASSWORD};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// Status, headers and JSON body of a response.
pub async fn json_of(resp: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap())
}

impl TestApp {
    /// The claims of an RS256 token verified against this server's JWKS, `aud` and issuer.
    pub async fn verified_claims(&self, token: &str, aud: &str) -> Value {
        use jsonwebtoken::{Algorithm, DecodingKey, Validation};
        let jwks = self.jwks().await;
        let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .unwrap();
        let key = DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&[aud]);
        v.set_issuer(&[self.address.as_str()]);
        jsonwebtoken::decode::<Value>(token, &key, &v)
            .unwrap()
            .claims
    }

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

    /// The status of a token request with `form`, as the client `id` with `secret`.
    pub async fn token_status(&self, id: &str, secret: &str, form: &[(&str, &str)]) -> u16 {
        self.post_token(Some((id, secret)), form)
            .await
            .status()
            .as_u16()
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

/// The claims of a JWT, read without verifying anything.
pub fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The claims of the ID token in a token response.
pub fn id_claims(body: &Value) -> Value {
    claims_of(body["id_token"].as_str().unwrap())
}

/// Forgeries of a real ID token: `alg: none`, a flipped signature character, the same claims
/// signed by a foreign key under the real `kid`, and garbage.
pub fn forged_hints(hint: &str) -> [String; 4] {
    let parts: Vec<&str> = hint.split('.').collect();
    let none_header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(ATTACKER_KEY.as_bytes()).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = jsonwebtoken::decode_header(hint).unwrap().kid;
    header.typ = Some("JWT".into());
    let foreign = jsonwebtoken::encode(&header, &claims_of(hint), &key).unwrap();
    [
        format!("{none_header}.{}.", parts[1]),
        tamper_signature(hint),
        foreign,
        "x.y.z".into(),
    ]
}

/// The token with one signature character changed (in the middle: every bit there counts).
fn tamper_signature(token: &str) -> String {
    let (head, sig) = token.rsplit_once('.').unwrap();
    let mut sig = sig.as_bytes().to_vec();
    sig[10] = if sig[10] == b'A' { b'B' } else { b'A' };
    format!("{head}.{}", String::from_utf8(sig).unwrap())
}
