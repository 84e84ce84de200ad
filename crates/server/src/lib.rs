//! Wardside's central service: a blind, authenticated relay. It stores each sealed op with the
//! routing metadata it needs (organisation, team, case, device, sequence), hands ops out by
//! its own cursor, and decides who may see what from that metadata alone.
//!
//! What it must never do: hold a key that opens an op, log or store content, or drop an op
//! silently (a conflicting re-push is refused, never ignored).

pub mod http;
pub mod storage;
