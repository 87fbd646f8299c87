//! Fuzzes the formula language: lexer, parser, checker, code generation and CPU evaluation.
//!
//! Feeds: arbitrary UTF-8 text (inputs that are not UTF-8 are skipped) to
//! `landwatch::Formula::parse`. An error is formatted (`Display`, `pointer`). A formula that
//! parses gets its unset named constants set to 0.5 and is evaluated with
//! `Engine::cpu().formula` on a fixed 4 × 2 stack of the six bands (B G R N S1 S2) holding
//! zeros, negatives, tiny and huge values, NaN, infinity and a band nodata value.
//!
//! Must hold: no panic (no overflow, no out-of-bounds, no stack overflow), no unbounded
//! allocation, errors are typed (`FormulaError`, `landwatch::Error`), and every output pixel
//! is finite (an undefined pixel is `INDEX_NODATA`, never NaN or infinity).
#![no_main]

use landwatch::{Band, BandData, BandRole, BandStack, Engine, Formula};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn stack() -> &'static BandStack {
    static STACK: OnceLock<BandStack> = OnceLock::new();
    STACK.get_or_init(|| {
        let values: [[f32; 8]; 6] = [
            [0.1, 0.0, -0.2, 1e-30, 3e38, f32::NAN, 0.5, 7.0],
            [0.2, 0.0, 0.3, -1e-30, -3e38, 0.25, f32::INFINITY, 0.5],
            [0.3, 0.0, 1.0, 1e-3, 1.0, 0.5, 0.25, -9999.0],
            [0.4, 0.0, -1.0, 2.0, 1e30, 0.75, 0.125, 0.5],
            [0.5, 0.0, 0.5, 1e-38, 0.5, f32::NEG_INFINITY, 0.0625, 1.0],
            [0.6, 0.0, 2.0, 100.0, -0.5, 1.0, 0.03125, 2.0],
        ];
        let bands = BandRole::ALL
            .iter()
            .zip(values)
            .map(|(&role, v)| Band::new(role, BandData::F32(v.to_vec())))
            .enumerate()
            .map(|(i, b)| if i == 3 { b.with_nodata(7.0) } else { b })
            .collect();
        BandStack::new(4, 2, bands).expect("a valid stack")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut formula = match Formula::parse(text) {
        Ok(f) => f,
        Err(e) => {
            let _ = e.to_string();
            let _ = landwatch::Error::from(e);
            return;
        }
    };
    let _ = (
        formula.wgsl().len(),
        formula.backend_tolerance(),
        formula.to_string(),
    );
    let unset: Vec<String> = (formula.constants().into_iter())
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| n.to_string())
        .collect();
    for name in unset {
        formula = formula
            .with_constant(&name, 0.5)
            .expect("a constant the formula reports can be set");
    }
    if let Ok(out) = Engine::cpu().formula(stack(), &formula) {
        assert_eq!(out.output.data.len(), 8);
        for v in &out.output.data {
            assert!(v.is_finite(), "{text:?} gave {v}: {:?}", out.output.data);
        }
    }
});
