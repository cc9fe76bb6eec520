//! Simulators of the services around the spooler, for tests, the demo and staff training.
//!
//! - [`central`]: the reference central authorization service, with fault injection.

pub mod central;
