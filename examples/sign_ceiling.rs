//! The least an HTTP server can do per token, as a yardstick for `bench/ceiling.sh`: actix-web
//! with one worker, like irongate; every `POST` (any path) is answered with a freshly signed
//! RS256 JWT the size of a client_credentials access token, in a token response. No client
//! authentication, no form parsing, no logging, no database: what is left beside the RSA
//! signature is HTTP over loopback TCP, which every server pays.
//!
//! `cargo run --release --example sign_ceiling -- 127.0.0.1:PORT`
use actix_web::{App, HttpResponse, HttpServer, web};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

struct Signer {
    key: RsaKeyPair,
    header: String,
    counter: AtomicU64,
}

impl Signer {
    fn token(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let claims = format!(
            r#"{{"iss":"http://127.0.0.1:18600","sub":"c_0123456789abcdef0123","aud":"http://127.0.0.1:18600","client_id":"c_0123456789abcdef0123","scope":"users:read","iat":{now},"nbf":{now},"exp":{},"jti":"{n:022}"}}"#,
            now + 900
        );
        let mut input = self.header.clone();
        input.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut input);
        let mut sig = vec![0; self.key.public_modulus_len()];
        if self
            .key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .is_err()
        {
            return String::new();
        }
        input.push('.');
        URL_SAFE_NO_PAD.encode_string(sig, &mut input);
        input
    }
}

async fn token(signer: web::Data<Arc<Signer>>, _body: web::Bytes) -> HttpResponse {
    let body = format!(
        r#"{{"access_token":"{}","token_type":"Bearer","expires_in":900,"scope":"users:read"}}"#,
        signer.token()
    );
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("cache-control", "no-store"))
        .body(body)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18700".into());
    let key = RsaKeyPair::generate(KeySize::Rsa2048).map_err(std::io::Error::other)?;
    let signer = Arc::new(Signer {
        key,
        header: URL_SAFE_NO_PAD.encode(
            r#"{"typ":"at+jwt","alg":"RS256","kid":"0123456789abcdef0123456789abcdef0123456789a"}"#,
        ),
        counter: AtomicU64::new(0),
    });
    let data = web::Data::new(signer);
    HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::post().to(token))
    })
    .workers(1)
    .bind(bind)?
    .run()
    .await
}
