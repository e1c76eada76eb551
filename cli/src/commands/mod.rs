//! One module per top-level subcommand.

pub mod info;
pub mod key;
pub mod keygen;
pub mod login;
pub mod manifest;
pub mod publish;
pub mod search;
pub mod spec;
pub mod verify;
pub mod yank;
