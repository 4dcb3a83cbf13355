//! Tests of the MSRP module, one file per concern.

mod builders;
mod chunking;
mod fuzz;
mod garbage;
mod incremental;
mod reassembly;
mod rfc_examples;
mod support;
mod values;
