//! The domain: enrollment events and their validation, the NIK, the job state machine, staff
//! actions on jobs, the blank-card ledger's outcomes, status events, card layouts and
//! fit-to-box.
//!
//! Architecture invariant: nothing here does I/O, spawns tasks or reads a clock. Adapters
//! translate wire formats into these types at the edge; workers combine both.

pub mod card_digest;
pub mod estimate;
pub mod event;
// Property tests of the parsers of untrusted input (issue 11); tests only.
#[cfg(test)]
mod fuzz;
pub mod job;
pub mod layout;
pub mod ledger;
pub mod nik;
pub mod office_time;
pub mod report;
pub mod staff;
pub mod status;
