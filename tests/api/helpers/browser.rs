//! A scripted browser for the authorization-code flow over plain HTTP: its own cookie jar, no
//! automatic redirects, and the hooks the CONTRACT promises (`form#login`, `form#consent`,
//! `input[name=csrf_token]`, …) read from the pages.

use super::app::TestApp;
use super::fixtures::{CHALLENGE, Client, PASSWORD, REDIRECT, VERIFIER};
use super::tokens::json_of;
use reqwest::header::{HeaderMap, LOCATION};
use serde_json::Value;
use std::collections::HashMap;

/// A user agent with its own cookie jar.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

/// A response, read.
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<String> {
        self.headers
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// The query parameters of the `Location` header.
    pub fn redirect_params(&self) -> HashMap<String, String> {
        let location = self
            .location()
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.body));
        let url = reqwest::Url::parse(&location).unwrap();
        url.query_pairs().into_owned().collect()
    }

    /// The value of the hidden input `name` (HTML-unescaped).
    pub fn hidden(&self, name: &str) -> String {
        hidden(&self.body, name).unwrap_or_else(|| panic!("no input {name} in {}", self.body))
    }

    pub fn has(&self, needle: &str) -> bool {
        self.body.contains(needle)
    }

    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

pub fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    let end = start + body[start..].find('"')?;
    Some(unescape(&body[start..end]))
}

/// Undoes HTML escaping: the named entities askama may write and numeric references.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity.strip_prefix('#').and_then(|n| {
                let code = match n.strip_prefix('x').or_else(|| n.strip_prefix('X')) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => n.parse().ok(),
                };
                code.and_then(char::from_u32)
            }),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .unwrap(),
            base: app.address.clone(),
        }
    }

    pub async fn read(resp: reqwest::Response) -> Page {
        Page {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path_and_query: &str) -> Page {
        let url = if path_and_query.starts_with("http") {
            path_and_query.to_owned()
        } else {
            format!("{}{}", self.base, path_and_query)
        };
        Self::read(self.http.get(url).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        Self::read(self.http.post(url).form(form).send().await.unwrap()).await
    }

    /// GET the authorization endpoint with `params`.
    pub async fn authorize(&self, params: &[(&str, &str)]) -> Page {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        self.get(&format!("/authorize?{query}")).await
    }

    /// Submits `form#login` of `page`.
    pub async fn login(&self, page: &Page, email: &str, password: &str) -> Page {
        assert!(
            page.has("<form id=\"login\""),
            "not a login page: {}",
            page.body
        );
        self.post(
            "/login",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("request", &page.hidden("request")),
                ("username", email),
                ("password", password),
            ],
        )
        .await
    }

    /// Submits `form#consent` of `page` with `decision`.
    pub async fn consent(&self, page: &Page, decision: &str) -> Page {
        assert!(
            page.has("<form id=\"consent\""),
            "not a consent page: {}",
            page.body
        );
        self.post(
            "/consent",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("request", &page.hidden("request")),
                ("decision", decision),
            ],
        )
        .await
    }

    /// Follows a same-site `Location` (after the login POST).
    pub async fn follow(&self, page: &Page) -> Page {
        let location = page.location().expect("a redirect");
        assert!(location.starts_with(&self.base), "{location}");
        self.get(&location).await
    }

    /// Signs in through the login page and approves consent when asked; the final response
    /// (normally the redirect to the client).
    pub async fn sign_in_and_approve(&self, params: &[(&str, &str)], email: &str) -> Page {
        let page = self.authorize(params).await;
        let page = if page.has("<form id=\"login\"") {
            let after = self.login(&page, email, PASSWORD).await;
            assert_eq!(after.status, 303, "{}", after.body);
            self.follow(&after).await
        } else {
            page
        };
        if page.has("<form id=\"consent\"") {
            self.consent(&page, "allow").await
        } else {
            page
        }
    }

    /// The value of the session cookie this browser holds, if any.
    pub fn session_cookie(page: &Page) -> Option<String> {
        page.headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| {
                c.starts_with("irongate_session=") || c.starts_with("__Host-irongate_session=")
            })
    }

    /// The value a `Set-Cookie` header sets.
    pub fn cookie_value(set_cookie: &str) -> String {
        let pair = set_cookie.split(';').next().unwrap();
        pair.split_once('=').unwrap().1.to_owned()
    }
}

/// The standard parameters of an authorization request for `client`.
pub fn code_request<'a>(
    client: &'a Client,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email"),
        ("state", "af0ifjsldkj"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        params.retain(|(key, _)| key != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    params
}

impl TestApp {
    /// Signs Alice in with `browser` (approving consent when asked) for [`code_request`]`(c,
    /// extra)` and exchanges the code: the token response.
    pub async fn sign_in_tokens(
        &self,
        c: &Client,
        browser: &Browser,
        extra: &[(&str, &str)],
    ) -> Value {
        let page = browser
            .sign_in_and_approve(&code_request(c, extra), "alice@example.com")
            .await;
        self.code_tokens(c, &page).await
    }

    /// Exchanges the code of the redirect `page`: the token response (asserted 200).
    pub async fn code_tokens(&self, c: &Client, page: &Page) -> Value {
        let code = page.redirect_params()["code"].clone();
        let (status, body) = self.exchange_code(c, &code).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Exchanges a code from [`code_request`] at the token endpoint (as `client`, with
    /// [`REDIRECT`] and [`VERIFIER`]).
    pub async fn exchange_code(&self, client: &Client, code: &str) -> (u16, Value) {
        let (status, _, body) = json_of(
            self.post_token(
                Some((&client.id, &client.secret)),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", VERIFIER),
                ],
            )
            .await,
        )
        .await;
        (status, body)
    }
}

/// An HTML error page and no `Location`: nothing goes to the candidate URI.
pub fn assert_no_redirect(page: &Page, what: &str) {
    assert_eq!(page.status, 400, "{what}: {}", page.body);
    assert!(page.location().is_none(), "{what} redirected");
    assert!(
        page.header("content-type").starts_with("text/html"),
        "{what}"
    );
}

/// The `error` of a silent answer (a redirect, not a page with a form); empty when there is none.
pub fn error_of(page: &Page) -> String {
    assert!(
        !page.has("<form"),
        "a page was shown instead of a silent answer"
    );
    page.redirect_params()
        .get("error")
        .cloned()
        .unwrap_or_default()
}
