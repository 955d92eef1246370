//! The harness every test file uses: the real server and CLI ([`app`]), users, clients and
//! constants to start from ([`fixtures`]), the token endpoint and its neighbours ([`tokens`]),
//! and a scripted cookie-jar browser for the pages ([`browser`]).

pub mod admin;
pub mod app;
pub mod browser;
pub mod fixtures;
pub mod tokens;
pub mod upstream;

pub use app::*;
pub use browser::*;
pub use fixtures::*;
pub use tokens::*;
pub use upstream::*;
