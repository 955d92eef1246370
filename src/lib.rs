#![forbid(unsafe_code)]
//! irongate: a standalone OAuth 2.0 / OpenID Connect identity provider.

pub mod admin;
pub mod auth;
pub mod browser;
pub mod cli;
pub mod config;
pub mod domain;
pub mod ephemeral;
pub mod error;
pub mod federation;
pub mod keys;
pub mod metrics;
pub mod oauth;
pub mod routes;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
