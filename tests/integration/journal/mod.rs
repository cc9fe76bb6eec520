//! The journal on both backends, SQLite and PostgreSQL: jobs and their audit trail, central's
//! queries, the blank-card ledger.

mod central;
mod jobs;
mod leases;
mod ledger;
mod retention;
