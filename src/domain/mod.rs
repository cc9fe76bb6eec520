//! The domain: enrollment events and their validation, the NIK, the job state machine, card
//! layouts and fit-to-box.
//!
//! Architecture invariant: nothing here does I/O, spawns tasks or reads a clock. Adapters
//! translate wire formats into these types at the edge; workers combine both.

pub mod event;
pub mod job;
pub mod layout;
pub mod nik;
pub mod status;
