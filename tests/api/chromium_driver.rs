//! Headless Chromium for the page tests: ChromeDriver on a port of its own, driven with
//! fantoccini, and the waits and finds the tests share.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::net::TcpStream;

pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// What the relying party's redirect endpoint answers to every request.
pub(crate) const LANDING: &str = "<p id=landed>ok</p>";

/// Whether Chromium and ChromeDriver are installed. When they are not, the test is skipped with a
/// note, or fails when `CI` or `IRONGATE_REQUIRE_BROWSER` says a browser must be there.
pub(crate) fn browser_installed() -> bool {
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
pub(crate) struct Driver {
    child: Child,
    port: u16,
    profile: TempDir,
    log: PathBuf,
    _log_dir: TempDir,
}

impl Driver {
    /// Starts ChromeDriver and waits (up to 10 s) until its `/status` says it is ready.
    pub(crate) async fn start() -> Self {
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
    pub(crate) async fn session(&self) -> Client {
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
pub(crate) fn request_shutdown(port: u16) {
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
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// A relying party's redirect endpoint on loopback: every request gets a 200 HTML page
/// ([`LANDING`]); the request lines are recorded.
pub(crate) async fn redirect_target() -> (u16, Arc<Mutex<Vec<String>>>) {
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
pub(crate) async fn answer_landing(mut stream: TcpStream, seen: Arc<Mutex<Vec<String>>>) {
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
pub(crate) async fn wait_for(client: &Client, css: &str, secs: u64) -> Element {
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
pub(crate) async fn wait_for_url(client: &Client, prefix: &str, secs: u64) -> url::Url {
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

pub(crate) async fn find(client: &Client, css: &str) -> Element {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
}

/// Types `email` and `password` into `form#login` and submits it.
pub(crate) async fn sign_in_on_page(client: &Client, email: &str, password: &str) {
    find(client, "form#login input#username")
        .await
        .send_keys(email)
        .await
        .expect("type the email");
    find(client, "form#login input#password")
        .await
        .send_keys(password)
        .await
        .expect("type the password");
    click(client, "form#login button[type=submit]").await;
}

pub(crate) async fn click(client: &Client, css: &str) {
    find(client, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

/// Where the browser is and what it shows, for failure messages.
pub(crate) async fn describe_page(client: &Client) -> String {
    let url = client
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_else(|e| format!("(no URL: {e})"));
    let source = client.source().await.unwrap_or_default();
    let source: String = source.chars().take(3000).collect();
    format!("at {url}:\n{source}")
}
