//! The loops that move jobs along, each combining the domain with adapters. A worker never
//! imports another worker; `app` wires them.

pub mod authorize;
pub mod intake;
