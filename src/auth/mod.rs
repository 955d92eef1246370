//! Authentication primitives: password hashing, generated secrets.

pub mod password;
pub mod rate_limit;
pub mod secrets;
pub mod sign_in;
