//! Authentication primitives: password hashing, generated secrets.

pub mod password;
pub mod secrets;
