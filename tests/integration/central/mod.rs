//! Central: the client over real HTTP, every fault of the simulator under the paused clock,
//! week-long outages, and the whole spooler through an outage end to end.

mod e2e;
mod faults;
mod http;
mod outage;
