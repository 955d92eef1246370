//! Access tokens verified per second through irongate-verify on one thread (`bench/verify.sh`
//! pins it to one core and compares with raw RSA-2048 verification).
//!
//! ```sh
//! cargo run --release -p irongate-verify --example verify_bench -- \
//!     --issuer URL --audience AUD --token ACCESS_TOKEN [--seconds 5]
//! ```

use clap::Parser;
use irongate_verify::Verifier;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    issuer: String,
    #[arg(long)]
    audience: String,
    /// A valid access token of the issuer.
    #[arg(long)]
    token: String,
    #[arg(long, default_value_t = 5)]
    seconds: u64,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let verifier = Verifier::builder(&args.issuer, &args.audience)
            .build()
            .await
            .map_err(std::io::Error::other)?;
        // The first verification loads the keys; the rest use them parsed.
        verifier
            .verify(&args.token)
            .await
            .map_err(std::io::Error::other)?;
        let start = Instant::now();
        let end = start + Duration::from_secs(args.seconds);
        let mut verified = 0u64;
        while Instant::now() < end {
            for _ in 0..100 {
                verifier
                    .verify(&args.token)
                    .await
                    .map_err(std::io::Error::other)?;
            }
            verified += 100;
        }
        println!("{:.0}", verified as f64 / start.elapsed().as_secs_f64());
        Ok(())
    })
}
