//! Protocol logic, free of actix: discovery metadata now; grants, tokens, introspection and
//! revocation join as they are built.

pub mod discovery;
