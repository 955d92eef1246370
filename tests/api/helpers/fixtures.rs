//! What tests start from: the fixture keys, the one test password, the relying party's redirect
//! URI and PKCE pair, and users and clients created through the real CLI.

use super::app::{Settings, TestApp, TestEnv, spawn_app, spawn_app_with};

/// The pre-generated key tests sign with, so that no test pays for RSA key generation unless
/// generating is its point.
pub const FIXTURE_KEY: &str = include_str!("../../fixtures/signing-key.pem");
pub const FIXTURE_KEY_FILE: &str = "1700000000000-fixture.pem";

/// The password of every user a test signs in as. It passes the strength check (zxcvbn) that
/// `user create` applies, so it must stay a passphrase of several words.
pub const PASSWORD: &str = "correct horse battery staple";

/// The relying party's registered redirect URI.
pub const REDIRECT: &str = "https://rp.test/cb";
/// RFC 7636 Appendix B's verifier and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// The registered post-logout redirect URI of [`spawn_session_app`]'s client.
pub const LOGOUT_TARGET: &str = "https://rp.test/logged-out";

/// A key irongate never published, for forging tokens.
pub const ATTACKER_KEY: &str = include_str!("../../fixtures/attacker-key.pem");

/// A client created with the CLI.
pub struct Client {
    pub id: String,
    pub secret: String,
}

impl TestEnv {
    /// The role `editor` (posts:read, posts:write) and Alice ([`PASSWORD`]) holding it; her id.
    pub fn alice_the_editor(&self) -> String {
        self.cli(
            &[
                "role",
                "create",
                "editor",
                "--permission",
                "posts:read",
                "--permission",
                "posts:write",
            ],
            None,
        )
        .json();
        let user = self
            .cli(
                &[
                    "user",
                    "create",
                    "--email",
                    "alice@example.com",
                    "--password-stdin",
                    "--role",
                    "editor",
                ],
                Some(PASSWORD),
            )
            .json();
        user["id"].as_str().unwrap().to_owned()
    }

    /// The role `auditor` (users:read) and the organization `acme`, where Alice is a member
    /// holding it.
    pub fn alice_audits_acme(&self) {
        self.cli(
            &["role", "create", "auditor", "--permission", "users:read"],
            None,
        )
        .json();
        self.cli(&["org", "create", "--slug", "acme", "--name", "Acme"], None)
            .json();
        self.cli(
            &[
                "org",
                "add-member",
                "--org",
                "acme",
                "--email",
                "alice@example.com",
                "--role",
                "auditor",
            ],
            None,
        )
        .json();
    }
}

impl TestApp {
    /// Creates a client with `client create --name test` and `args`.
    pub fn create_client(&self, args: &[&str]) -> Client {
        let mut full = vec!["client", "create", "--name", "test"];
        full.extend_from_slice(args);
        let out = self.env.cli(&full, None).json();
        Client {
            id: out["client_id"].as_str().unwrap().into(),
            secret: out["client_secret"].as_str().unwrap_or("").into(),
        }
    }

    /// Creates a user with a password; returns their id (`sub`).
    pub fn create_user(&self, email: &str, password: &str) -> String {
        self.env
            .cli(
                &[
                    "user",
                    "create",
                    "--email",
                    email,
                    "--name",
                    "Test User",
                    "--password-stdin",
                ],
                Some(password),
            )
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A client that may use the password and refresh grants, and Alice (`alice@example.com`,
    /// [`PASSWORD`]); returns the client and Alice's id.
    pub fn password_client_with_alice(&self) -> (Client, String) {
        let client = self.create_client(&[
            "--grant-type",
            "password",
            "--grant-type",
            "refresh_token",
            "--scope",
            "openid",
            "--scope",
            "email",
            "--scope",
            "profile",
            "--scope",
            "users:read",
        ]);
        let user = self.create_user("alice@example.com", PASSWORD);
        (client, user)
    }
}

/// A server with Alice ([`PASSWORD`]) and a confidential client registered for [`REDIRECT`] and
/// `https://rp.test/cb?x=1`.
pub async fn spawn_code_flow_app() -> (TestApp, Client) {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD);
    let c = app.create_client(&[
        "--redirect-uri",
        REDIRECT,
        "--redirect-uri",
        "https://rp.test/cb?x=1",
    ]);
    (app, c)
}

/// A server changed by `customize`, with Alice and Bob ([`PASSWORD`]) and a confidential client
/// registered for [`REDIRECT`] and, after logout, [`LOGOUT_TARGET`].
pub async fn spawn_session_app_with(customize: impl FnOnce(&mut Settings)) -> (TestApp, Client) {
    let app = spawn_app_with(TestEnv::new(), customize).await;
    app.create_user("alice@example.com", PASSWORD);
    app.create_user("bob@example.com", PASSWORD);
    let c = app.create_client(&[
        "--redirect-uri",
        REDIRECT,
        "--post-logout-redirect-uri",
        LOGOUT_TARGET,
    ]);
    (app, c)
}

/// [`spawn_session_app_with`] the default settings.
pub async fn spawn_session_app() -> (TestApp, Client) {
    spawn_session_app_with(|_| {}).await
}

/// A server changed by `customize`, with Alice ([`PASSWORD`]) and a confidential client
/// registered for [`REDIRECT`].
pub async fn spawn_pages_app_with(customize: impl FnOnce(&mut Settings)) -> (TestApp, Client) {
    let app = spawn_app_with(TestEnv::new(), customize).await;
    app.create_user("alice@example.com", PASSWORD);
    let c = app.create_client(&["--redirect-uri", REDIRECT]);
    (app, c)
}
