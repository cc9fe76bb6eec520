//! Shared helpers of the integration tests.

pub mod printer_sim;
