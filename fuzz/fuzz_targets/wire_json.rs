//! Every wire type's JSON: any bytes, or a genuine message of each type edited. What parses must
//! round-trip; nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wardside_fuzz::{every_wire_type, input_from, wire_samples};

fuzz_target!(|data: &[u8]| {
    let samples: Vec<&[u8]> = wire_samples().iter().map(Vec::as_slice).collect();
    every_wire_type(&input_from(data, &samples));
});
