//! The loops that move jobs along, each combining the domain with adapters. A worker never
//! imports another worker; `app` wires them. `cards` is not a loop but dispatch's renderer:
//! the render adapter behind the trait dispatch owns.

pub mod authorize;
pub mod cards;
pub mod dispatch;
pub mod intake;
pub mod notify;
pub mod retention;
