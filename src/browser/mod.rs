//! What the browser sees: sessions (cookie, CSRF) and server-rendered pages.

pub mod pages;
pub mod reveal;
pub mod session;
