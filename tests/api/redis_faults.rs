//! Redis faults (REL-04, REL-05): a Redis that goes away or loses its data never brings a
//! revoked token back and never turns rate limits off. Run when IRONGATE_TEST_REDIS_URL is set
//! (always in `.ci/run`); the server reaches Redis through a proxy the test can cut.

use crate::helpers::{PASSWORD, TestApp, TestEnv, spawn_app_with};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

fn redis_url() -> Option<String> {
    std::env::var("IRONGATE_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A TCP proxy to Redis; `cut` closes it and every connection through it.
struct Proxy {
    port: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(redis: &str) -> Self {
        let upstream = redis
            .trim_start_matches("redis://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let inner = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                inner.lock().unwrap().push(conn);
            }
        });
        tasks.lock().unwrap().push(accept);
        Self { port, tasks }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

async fn app_behind(proxy: &Proxy) -> TestApp {
    let url = proxy.url();
    spawn_app_with(TestEnv::new(), move |s| s.redis.url = Some(url)).await
}

#[tokio::test]
async fn rel_05_redis_down_revoked_tokens_stay_rejected() {
    let Some(redis) = redis_url() else { return };
    let proxy = Proxy::start(&redis).await;
    let app = app_behind(&proxy).await;
    let (c, _) = app.password_client_with_alice();
    let revoked = app.password_login(&c, "openid").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let kept = app.password_login(&c, "openid").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.revoke(&c, &revoked).await, 200);
    assert_eq!(app.userinfo_status(&revoked).await, 401);

    proxy.cut();
    assert_eq!(
        app.userinfo_status(&revoked).await,
        401,
        "the revoked token stays rejected"
    );
    assert_eq!(
        app.userinfo_status(&kept).await,
        200,
        "the database answers instead"
    );
    // A revocation that cannot reach every node is not reported as done (RFC 7009 §2.2.1).
    assert_eq!(app.revoke(&c, &kept).await, 503);
    // It was written to the database, so this node refuses the token already.
    assert_eq!(app.userinfo_status(&kept).await, 401);
}

#[tokio::test]
async fn rel_05_a_flushed_redis_does_not_resurrect_revoked_tokens() {
    let Some(redis) = redis_url() else { return };
    let env = TestEnv::new();
    let prefix = env.redis_prefix.clone();
    let app = spawn_app_with(env, |_| {}).await;
    let (c, _) = app.password_client_with_alice();
    let token = app.password_login(&c, "openid").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.revoke(&c, &token).await, 200);
    assert_eq!(app.userinfo_status(&token).await, 401);

    // Everything irongate keeps in Redis is lost.
    let client = redis::Client::open(redis.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    let _: () = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut conn)
        .await
        .unwrap();

    assert_eq!(app.userinfo_status(&token).await, 401);
    // The blocklist is rebuilt from the database.
    let blocklist = format!("{prefix}revoked");
    let check = conn.clone();
    let rebuilt = crate::helpers::eventually(5, || {
        let blocklist = blocklist.clone();
        let mut conn = check.clone();
        async move {
            redis::cmd("ZSCORE")
                .arg(&blocklist)
                .arg("~loaded")
                .query_async::<Option<String>>(&mut conn)
                .await
                .unwrap()
                .is_some()
        }
    })
    .await;
    assert!(rebuilt);
    let mut check = conn.clone();
    let ttl: i64 = redis::cmd("TTL")
        .arg(&blocklist)
        .query_async(&mut check)
        .await
        .unwrap();
    assert!(ttl > 0, "every key has a TTL");
    assert_eq!(app.userinfo_status(&token).await, 401);
}

#[tokio::test]
async fn rel_04_redis_down_rate_limits_fall_back_to_local_counters() {
    let Some(redis) = redis_url() else { return };
    let proxy = Proxy::start(&redis).await;
    let app = app_behind(&proxy).await;
    let (c, _) = app.password_client_with_alice();
    proxy.cut();
    for _ in 0..5 {
        assert_eq!(
            app.password_attempt(&c, "wrong password", None).await.0,
            400
        );
    }
    assert_eq!(
        app.password_attempt(&c, PASSWORD, None).await.0,
        429,
        "never unlimited"
    );
}

/// REL-05: `user logout-all` run while Redis is unreachable still saves the change (the
/// database is the source of truth; nodes read the new stamp once their cached entry expires)
/// and says that Redis could not be told, instead of failing or staying silent.
#[test]
fn logout_all_from_the_command_line_is_saved_when_redis_is_down_rel_05() {
    let env = TestEnv::new();
    let created = env
        .cli(&["user", "create", "--email", "dora@example.com"], None)
        .json();
    let free_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = format!("redis://127.0.0.1:{free_port}");
    let out = env.cli_with(
        &["user", "logout-all", "--email", "dora@example.com"],
        None,
        &[("IRONGATE_REDIS_URL", down.as_str())],
    );
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(out.json()["id"], created["id"]);
    assert!(
        out.stderr
            .contains("the change is saved, but Redis could not be told"),
        "{}",
        out.stderr
    );
}
