//! The command line's subcommands, one file each; `main.rs` only parses and dispatches.

pub mod central_sim;
pub mod config;
pub mod demo;
pub mod publish;
pub mod render;
pub mod staff;
