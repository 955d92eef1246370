//! Protocol logic, free of actix: discovery metadata, client authentication, the token endpoint
//! and its grants, token formats.

pub mod access;
pub mod authorize;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod form;
pub mod interaction;
pub mod redirect;
pub mod reuse;
pub mod revocation;
pub mod revocations;
pub mod token;
pub mod tokens;
