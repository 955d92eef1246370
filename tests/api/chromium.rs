//! The code flow in a real browser: headless Chromium, driven through ChromeDriver (WebDriver)
//! with fantoccini, signs in on the login page, approves on the consent page and lands on a
//! relying party's loopback redirect URI served by this test; the code it carries is exchanged
//! at the token endpoint. Then the browser signs out through the confirmation page, and the next
//! authorization request asks it to sign in again. Then strangers push the user past the global
//! ceiling of failed sign-ins: a fresh browser is refused, and Chromium, holding the device
//! cookie its first sign-in earned, signs in (CONTRACT "Sign-in limits", SEC-57).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`, `/usr/bin/chromedriver`).
//! Without them the test is skipped with a note, unless `CI` or `IRONGATE_REQUIRE_BROWSER` is set
//! (`.ci/run` sets the latter and installs both), in which case it fails.

use crate::helpers::{Browser, CHALLENGE, PASSWORD, TestEnv, VERIFIER, json_of, spawn_app_with};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::net::TcpStream;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// What the relying party's redirect endpoint answers to every request.
const LANDING: &str = "<p id=landed>ok</p>";

#[tokio::test]
async fn headless_chromium_signs_in_through_the_pages() {
    if !browser_installed() {
        return;
    }
    // fantoccini's rustls connector builds its TLS configuration with rustls' process-default
    // crypto provider, and this test binary links rustls with both aws-lc-rs and ring (reqwest
    // brings ring), so rustls cannot pick one by itself: name it (rustls is a dev-dependency for
    // this alone). Err means one is installed already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();

    let app = spawn_app_with(TestEnv::new(), |s| {
        s.login.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        s.login.limit_per_user_global = 3;
    })
    .await;
    app.create_user("alice@example.com", PASSWORD);
    let (rp_port, requests) = redirect_target().await;
    let redirect = format!("http://127.0.0.1:{rp_port}/cb");
    let rp = app.create_client(&["--redirect-uri", &redirect]);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", rp.id.as_str()),
            ("redirect_uri", redirect.as_str()),
            ("scope", "openid email"),
            ("state", "xyz"),
            ("nonce", "n1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let authorize = format!("{}/authorize?{query}", app.address);

    let driver = Driver::start().await;
    let chrome = driver.session().await;

    // The login page.
    chrome.goto(&authorize).await.expect("open /authorize");
    wait_for(&chrome, "form#login", 10).await;
    find(&chrome, "form#login input#username")
        .await
        .send_keys("alice@example.com")
        .await
        .expect("type the email");
    find(&chrome, "form#login input#password")
        .await
        .send_keys(PASSWORD)
        .await
        .expect("type the password");
    click(&chrome, "form#login button[type=submit]").await;

    // The consent page.
    wait_for(&chrome, "form#consent", 10).await;
    assert!(
        chrome
            .find(Locator::Css("ul#scopes li[data-scope=openid]"))
            .await
            .is_ok(),
        "the consent page lists the openid scope"
    );
    click(&chrome, "form#consent button[name=decision][value=allow]").await;

    // Back at the relying party, with the code, `state` and `iss`.
    let landed = wait_for_url(&chrome, &redirect, 10).await;
    assert_eq!(landed.path(), "/cb", "{landed}");
    wait_for(&chrome, "#landed", 10).await;
    let seen = requests.lock().unwrap().clone();
    assert!(
        seen.iter().any(|line| line.starts_with("GET /cb?")),
        "the browser itself requested the redirect URI: {seen:?}"
    );
    let params: HashMap<String, String> = landed.query_pairs().into_owned().collect();
    assert_eq!(
        params.get("state").map(String::as_str),
        Some("xyz"),
        "{landed}"
    );
    assert_eq!(params.get("iss"), Some(&app.address), "{landed}");
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code in {landed}"));

    // The code is good at the token endpoint, for the redirect URI the browser went to.
    let (status, _, body) = json_of(
        app.post_token(
            Some((&rp.id, &rp.secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect.as_str()),
                ("code_verifier", VERIFIER),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string(), "{body}");
    assert!(body["id_token"].is_string(), "{body}");

    // Signing out: without an id_token_hint a confirmation page asks first.
    chrome
        .goto(&app.url("/logout"))
        .await
        .expect("open /logout");
    wait_for(&chrome, "form#logout", 10).await;
    click(&chrome, "form#logout button[type=submit]").await;
    wait_for(&chrome, "#logged-out", 10).await;

    // The session ended: the same request asks to sign in again.
    chrome
        .goto(&authorize)
        .await
        .expect("open /authorize again");
    wait_for(&chrome, "form#login", 10).await;
    assert!(
        chrome.find(Locator::Css("form#consent")).await.is_err(),
        "signed out, yet the consent page shows"
    );
    let device = chrome
        .get_named_cookie("irongate_device")
        .await
        .expect("the first sign-in left a device cookie");
    assert_eq!(device.http_only(), Some(true));

    // Strangers on three networks reach alice's global ceiling; a fresh browser is refused.
    let guesser = app.create_client(&["--grant-type", "password"]);
    for network in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        let (status, _, _) = app
            .password_attempt(&guesser, "wrong password", Some(network))
            .await;
        assert_eq!(status, 400);
    }
    let stranger = Browser::new(&app);
    let login = stranger.get(&authorize).await;
    let refused = stranger.login(&login, "alice@example.com", PASSWORD).await;
    assert_eq!(refused.status, 429, "{}", refused.body);

    // Chromium, with its device cookie, signs in and lands at the relying party again.
    find(&chrome, "form#login input#username")
        .await
        .send_keys("alice@example.com")
        .await
        .expect("type the email");
    find(&chrome, "form#login input#password")
        .await
        .send_keys(PASSWORD)
        .await
        .expect("type the password");
    click(&chrome, "form#login button[type=submit]").await;
    let landed = wait_for_url(&chrome, &redirect, 10).await;
    let params: HashMap<String, String> = landed.query_pairs().into_owned().collect();
    assert!(params.contains_key("code"), "{landed}");

    chrome.close().await.expect("end the WebDriver session");
}

/// The organization chooser in a real browser (CONTRACT page hook `form#organization`): a user of
/// two organizations signs in at a `--require-organization` client, clicks one, and the code the
/// relying party receives carries it.
#[tokio::test]
async fn headless_chromium_chooses_an_organization() {
    if !browser_installed() {
        return;
    }
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let app = spawn_app_with(TestEnv::new(), |_| {}).await;
    app.create_user("alice@example.com", PASSWORD);
    let ok = |args: &[&str]| app.env.cli(args, None).json();
    ok(&["org", "create", "--slug", "acme", "--name", "Acme"]);
    let globex = ok(&["org", "create", "--slug", "globex", "--name", "Globex"]);
    for org in ["acme", "globex"] {
        ok(&[
            "org",
            "add-member",
            "--org",
            org,
            "--email",
            "alice@example.com",
        ]);
    }
    let (rp_port, _) = redirect_target().await;
    let redirect = format!("http://127.0.0.1:{rp_port}/cb");
    let rp = app.create_client(&[
        "--redirect-uri",
        &redirect,
        "--skip-consent",
        "--require-organization",
    ]);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", rp.id.as_str()),
            ("redirect_uri", redirect.as_str()),
            ("scope", "openid"),
            ("state", "org"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let driver = Driver::start().await;
    let chrome = driver.session().await;
    chrome
        .goto(&format!("{}/authorize?{query}", app.address))
        .await
        .expect("open /authorize");
    wait_for(&chrome, "form#login", 10).await;
    find(&chrome, "form#login input#username")
        .await
        .send_keys("alice@example.com")
        .await
        .expect("type the email");
    find(&chrome, "form#login input#password")
        .await
        .send_keys(PASSWORD)
        .await
        .expect("type the password");
    click(&chrome, "form#login button[type=submit]").await;
    wait_for(&chrome, "form#organization", 10).await;
    click(
        &chrome,
        "form#organization button[name=organization][value=globex]",
    )
    .await;
    let landed = wait_for_url(&chrome, &redirect, 10).await;
    let params: HashMap<String, String> = landed.query_pairs().into_owned().collect();
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code in {landed}"));
    let (status, _, body) = json_of(
        app.post_token(
            Some((&rp.id, &rp.secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect.as_str()),
                ("code_verifier", VERIFIER),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let access = crate::helpers::claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(access["org_id"], globex["id"]);
    chrome.close().await.expect("end the WebDriver session");
}

/// Whether Chromium and ChromeDriver are installed. When they are not, the test is skipped with a
/// note, or fails when `CI` or `IRONGATE_REQUIRE_BROWSER` says a browser must be there.
fn browser_installed() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|path| !Path::new(path).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let missing = missing.join(" and ");
    if let Some(var) = ["CI", "IRONGATE_REQUIRE_BROWSER"]
        .into_iter()
        .find(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()))
    {
        panic!(
            "{var} is set but {missing} is missing: install Debian's chromium and \
             chromium-driver (apt-get install chromium chromium-driver; .ci/run does)"
        );
    }
    eprintln!(
        "note: skipping the headless Chromium test: {missing} is missing (install Debian's \
         chromium and chromium-driver; set IRONGATE_REQUIRE_BROWSER=1 to fail instead)"
    );
    false
}

/// ChromeDriver on a port of its own, with a fresh Chromium profile. Dropping it (at the end of
/// the test or while a failed assertion unwinds) stops ChromeDriver and the browser it started.
struct Driver {
    child: Child,
    port: u16,
    profile: TempDir,
    log: PathBuf,
    _log_dir: TempDir,
}

impl Driver {
    /// Starts ChromeDriver and waits (up to 10 s) until its `/status` says it is ready.
    async fn start() -> Self {
        let profile = tempfile::tempdir().expect("temp dir for the Chromium profile");
        let log_dir = tempfile::tempdir().expect("temp dir for the ChromeDriver log");
        let log = log_dir.path().join("chromedriver.log");
        let port = free_port();
        let mut driver = Driver {
            child: Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}")),
            port,
            profile,
            log,
            _log_dir: log_dir,
        };
        driver.wait_until_ready().await;
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_until_ready(&mut self) {
        let http = reqwest::Client::new();
        let status = format!("{}/status", self.url());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(resp) = http.get(&status).send().await
                && let Ok(body) = resp.json::<serde_json::Value>().await
                && body["value"]["ready"] == true
            {
                return;
            }
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!("chromedriver exited ({exit}):\n{}", self.log_tail());
            }
            if Instant::now() >= deadline {
                panic!(
                    "chromedriver not ready on {status} after 10 s:\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A WebDriver session in headless Chromium. The background-networking flags keep Chromium
    /// from calling out to Google's services, which a closed network refuses.
    async fn session(&self) -> Client {
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            format!("--user-data-dir={}", self.profile.path().display()),
        ];
        let serde_json::Value::Object(capabilities) = serde_json::json!({
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
            "timeouts": { "pageLoad": 30_000, "script": 30_000, "implicit": 0 },
        }) else {
            unreachable!("a JSON object")
        };
        ClientBuilder::rustls()
            .expect("fantoccini's rustls connector")
            .capabilities(capabilities)
            .connect(&self.url())
            .await
            .unwrap_or_else(|e| panic!("no WebDriver session: {e}\n{}", self.log_tail()))
    }

    /// The end of ChromeDriver's log, for failure messages.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("chromedriver log (end):\n{}", self.log_tail());
        }
        // `/shutdown` makes ChromeDriver close its browsers and exit; killing ChromeDriver alone
        // would leave Chromium running.
        request_shutdown(self.port);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET /shutdown` on ChromeDriver, best effort and bounded in time (it runs in `Drop`).
fn request_shutdown(port: u16) {
    use std::io::{Read, Write};
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return;
    };
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request =
        format!("GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// A relying party's redirect endpoint on loopback: every request gets a 200 HTML page
/// ([`LANDING`]); the request lines are recorded.
async fn redirect_target() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the redirect target");
    let port = listener.local_addr().expect("local address").port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer_landing(stream, seen.clone()));
        }
    });
    (port, requests)
}

/// Reads one request head, answers with [`LANDING`] and closes the connection.
async fn answer_landing(mut stream: TcpStream, seen: Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    let read_head = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(n) if n > 0 && head.len() < 64 * 1024 => head.extend_from_slice(&buf[..n]),
                _ => return false,
            }
        }
        true
    };
    // Browsers open connections they may never use: those time out here.
    if !matches!(
        tokio::time::timeout(Duration::from_secs(10), read_head).await,
        Ok(true)
    ) {
        return;
    }
    let request_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    seen.lock().unwrap().push(request_line);
    let len = LANDING.len();
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{LANDING}"
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Polls `find` until an element matches `css`, for up to `secs` seconds.
async fn wait_for(client: &Client, css: &str, secs: u64) -> Element {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            return element;
        }
        if Instant::now() >= deadline {
            panic!("no {css} after {secs} s; {}", describe_page(client).await);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls the browser's URL until it starts with `prefix`, for up to `secs` seconds.
async fn wait_for_url(client: &Client, prefix: &str, secs: u64) -> url::Url {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(url) = client.current_url().await
            && url.as_str().starts_with(prefix)
        {
            return url;
        }
        if Instant::now() >= deadline {
            panic!(
                "never reached {prefix} in {secs} s; {}",
                describe_page(client).await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn find(client: &Client, css: &str) -> Element {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
}

async fn click(client: &Client, css: &str) {
    find(client, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

/// Where the browser is and what it shows, for failure messages.
async fn describe_page(client: &Client) -> String {
    let url = client
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_else(|e| format!("(no URL: {e})"));
    let source = client.source().await.unwrap_or_default();
    let source: String = source.chars().take(3000).collect();
    format!("at {url}:\n{source}")
}
