//! Protocol logic, free of actix: discovery metadata, client authentication, the authorization
//! endpoint's steps, the token endpoint and its grants, issuance, revocation, introspection,
//! token formats.

pub mod authorize;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod form;
pub mod grants;
pub mod interaction;
pub mod introspection;
pub mod issue;
pub mod organization;
pub mod redirect;
pub mod reuse;
pub mod revocation;
pub mod revocation_feed;
pub mod tokens;
