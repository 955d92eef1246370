//! What the browser sees: sessions (cookie, CSRF) and server-rendered pages.

pub mod federation;
pub mod pages;
pub mod reveal;
pub mod sealed;
pub mod session;
