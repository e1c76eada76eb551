//! One module per top-level subcommand.

pub mod approve;
pub mod bundle;
pub mod export;
pub mod files;
pub mod import;
pub mod info;
pub mod install;
pub mod key;
pub mod keygen;
pub mod login;
pub mod manifest;
pub mod outdated;
pub mod publish;
pub mod pull;
pub mod resolution;
pub mod resolve;
pub mod search;
pub mod spec;
pub mod trust;
pub mod update;
pub mod verify;
pub mod yank;
