//! REL-06: SIGTERM under load. Readiness answers 503 at once while requests are still served;
//! then the listener closes (new connections are refused), every request in flight finishes
//! with its answer (no 5xx, no reset), and the process exits 0 well within the grace period.

use crate::config::start_server;
use crate::helpers::{PASSWORD, TestEnv};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[tokio::test]
async fn sigterm_drains_in_flight_requests_and_exits_0_rel_06() {
    let env = TestEnv::new();
    let client = env
        .cli(
            &[
                "client",
                "create",
                "--name",
                "load",
                "--grant-type",
                "password",
            ],
            None,
        )
        .json();
    env.create_user("alice@example.com");
    let mut vars = env.env("http://127.0.0.1:8080");
    for limit in ["PER_IP", "PER_USER", "PER_USER_GLOBAL"] {
        vars.push((format!("IRONGATE_LOGIN_LIMIT_{limit}"), "0".into()));
    }
    let mut server = start_server(env.dir.path(), &vars).await;
    let base = server.base.clone();
    let (id, secret) = (
        client["client_id"].as_str().unwrap().to_owned(),
        client["client_secret"].as_str().unwrap().to_owned(),
    );
    // A new connection per request: what a request meets is the listener's state at its start.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let sign_in = {
        let (http, base) = (http.clone(), base.clone());
        move || {
            let (http, base, id, secret) = (http.clone(), base.clone(), id.clone(), secret.clone());
            async move {
                let sent = http
                    .post(format!("{base}/token"))
                    .basic_auth(&id, Some(&secret))
                    .form(&[
                        ("grant_type", "password"),
                        ("username", "alice@example.com"),
                        ("password", PASSWORD),
                    ])
                    .send()
                    .await;
                match sent {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        resp.bytes()
                            .await
                            .map(|_| status)
                            .map_err(|e| e.to_string())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    };
    // Steady load until readiness says the node is going (as a load balancer would stop).
    let draining = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (sign_in, draining) = (sign_in.clone(), draining.clone());
        workers.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            while !draining.load(Ordering::SeqCst) {
                answers.push(sign_in().await);
            }
            answers
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let pid = server.child.id().to_string();
    let signalled = Instant::now();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "readiness answers 503 while draining");
    draining.store(true, Ordering::SeqCst);
    // A burst just before the listener closes (2 s after the signal): sixteen argon2id hashes
    // on two cores are still in flight when it does.
    tokio::time::sleep(Duration::from_millis(1700).saturating_sub(signalled.elapsed())).await;
    let burst: Vec<_> = (0..16).map(|_| tokio::spawn(sign_in())).collect();
    let exit = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(30),
            "still running 30 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = signalled.elapsed();
    let mut answers = Vec::new();
    for w in workers {
        answers.extend(w.await.unwrap());
    }
    let steady = answers.len();
    for b in burst {
        answers.push(b.await.unwrap());
    }
    assert!(exit.success(), "exit status {exit:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    let failed: Vec<&Result<u16, String>> = answers.iter().filter(|a| **a != Ok(200)).collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed: {:?}",
        failed.len(),
        answers.len(),
        failed.first()
    );
    // The listener is closed: a new connection is refused.
    let after = http.get(format!("{base}/healthz")).send().await;
    assert!(after.as_ref().is_err_and(|e| e.is_connect()), "{after:?}");
    eprintln!(
        "SIGTERM under load: {steady} requests before readiness said 503 and 16 in flight as the \
         listener closed, all answered 200, none cut off; exit 0 after {took:?}"
    );
}
