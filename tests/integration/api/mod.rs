//! The staff API over HTTP, and the staff CLI (`cardspool jobs|printers|central`) against it.

mod cli;
mod http;
