//! One integration binary: the real server over HTTP and the real `irongate` binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on what they did not expect"
)]

mod account_api_keys;
mod admin_access;
mod admin_api;
mod admin_openapi;
mod admin_resources;
mod api_key_use;
mod api_keys;
mod architecture;
mod authorize_errors;
mod authorize_flow;
mod authorize_redirect_uri;
mod bad_input;
mod chromium;
mod chromium_driver;
mod chromium_keys;
mod cli;
mod code_grant;
mod config;
mod consent;
mod cors;
mod db_recovery;
mod discovery;
mod federation;
mod federation_cli;
mod federation_irongate;
mod federation_linking;
mod helpers;
mod jwks;
mod logout;
mod logs;
mod me_api_keys;
mod metrics;
mod oidc_rp;
mod page_security;
mod pages;
mod password_change;
mod posts_example;
mod prompt;
mod rate_limit;
mod rate_limit_browsers;
mod redis_faults;
mod refresh;
mod revocation;
mod roles;
mod roles_chooser;
mod roles_claims;
mod roles_organizations;
mod sessions;
mod shutdown;
mod storage;
mod token;
mod token_exchange;
mod two_nodes;
mod userinfo;
mod verify;
mod verify_feed;
