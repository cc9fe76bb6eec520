//! Printing: the printer adapters against ippeveprinter, and the dispatch stage over a pool of
//! them, with faults, kills and restarts.

mod dispatch;
mod ipp;
