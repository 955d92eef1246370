//! One integration binary: the real server over HTTP and the real `irongate` binary.

mod cli;
mod code_grant;
mod config;
mod discovery;
mod helpers;
mod jwks;
mod rate_limit;
mod redis_faults;
mod refresh;
mod revocation;
mod storage;
mod token;
mod userinfo;
