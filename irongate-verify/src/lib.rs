#![forbid(unsafe_code)]
//! Verify irongate's access tokens and API keys in actix-web resource servers.
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use irongate_verify::{Caller, Rejection, Verifier};
//!
//! async fn write(caller: Caller) -> Result<String, Rejection> {
//!     caller.require_permission("posts:write")?;
//!     Ok(format!("hello {}", caller.sub))
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let verifier = Verifier::builder("https://id.example.com", "https://api.example.com")
//!     .build()
//!     .await
//!     .map_err(std::io::Error::other)?;
//! let verifier = web::Data::new(verifier);
//! HttpServer::new(move || App::new().app_data(verifier.clone()).route("/", web::post().to(write)))
//!     .bind("127.0.0.1:8000")?
//!     .run()
//!     .await
//! # }
//! ```

pub mod caller;
pub mod claims;
pub mod error;
mod extract;
mod feed;
mod keys;
pub mod verifier;

pub use caller::Caller;
pub use claims::AccessClaims;
pub use error::Rejection;
pub use keys::UNKNOWN_KID_REFETCH;
pub use verifier::{BuildError, Builder, Verifier};
