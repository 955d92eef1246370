//! Protocol logic, free of actix: discovery metadata, client authentication, the token endpoint
//! and its grants, token formats.

pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod form;
pub mod token;
pub mod tokens;
