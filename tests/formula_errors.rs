//! Malformed formulas give positioned errors, never panics; random strings are fed to the
//! parser by proptest.

use landwatch::formula::Formula;
use landwatch::{Band, BandData, BandRole, BandStack, Engine, Error};
use proptest::prelude::*;

/// Parses `text`, expecting an error at `column` whose message contains `words`.
fn fails_at(text: &str, column: usize, words: &str) {
    let e = Formula::parse(text).expect_err(text);
    assert_eq!(e.column, column, "{text}: {e}");
    assert!(
        e.message.contains(words),
        "{text}: message '{}' lacks '{words}'",
        e.message
    );
    // The caret sits under the column.
    let pointer = e.pointer();
    let caret = pointer.lines().nth(1).unwrap();
    assert_eq!(caret.chars().count(), column, "{text}: {pointer}");
    assert!(caret.ends_with('^'));
}

#[test]
fn malformed_formulas_give_positioned_errors() {
    let cases: [(&str, usize, &str); 24] = [
        ("", 1, "empty formula"),
        ("   ", 4, "empty formula"),
        ("(N - R", 7, "expected ')'"),
        ("N - R)", 6, "unmatched ')'"),
        ("(N - R) / (N + Q)", 16, "unknown name 'Q'"),
        ("(N - r)", 6, "did you mean R?"),
        ("RE1 - R", 1, "red edge 1"),
        ("N / R550", 5, "hyperspectral"),
        ("T1 + N", 1, "thermal infrared 1"),
        ("foo(N)", 1, "unknown function 'foo'"),
        ("sqrt(N, R)", 1, "sqrt takes 1 argument"),
        ("min(N)", 1, "min takes 2 arguments"),
        ("clamp(N, 0)", 1, "clamp takes 3 arguments"),
        ("where(N, R, G)", 7, "must be a comparison"),
        ("(N > R) + 1", 4, "not a comparison"),
        ("N < R < G", 7, "cannot be chained"),
        ("N > R", 3, "the formula's value must be a number"),
        ("N + * R", 5, "expected a number"),
        ("N R", 3, "expected an operator"),
        ("N = R", 3, "compare with '=='"),
        ("N # R", 3, "unexpected character '#'"),
        ("1.2.3 * N", 4, "right after the number"),
        ("1e99 * N", 1, "too large"),
        ("2 + 3", 1, "reads no band"),
    ];
    for (text, column, words) in cases {
        fails_at(text, column, words);
    }
    fails_at("sqrt + N", 1, "sqrt is a function");
    fails_at("min(N, R", 9, "expected ',' or ')'");
    fails_at("N +", 4, "ends where an operand is expected");
    fails_at("()", 2, "empty parentheses");
    fails_at(". + N", 1, "lone '.'");
    fails_at("N ! R", 3, "unexpected character '!'");
}

#[test]
fn public_errors_carry_the_formula_and_the_column() {
    let e: Error = Formula::parse("N +* R").unwrap_err().into();
    match e {
        Error::InvalidParameter {
            name,
            value,
            reason,
        } => {
            assert_eq!(name, "formula");
            assert_eq!(value, "N +* R");
            assert!(reason.starts_with("column 4:"), "{reason}");
            assert!(reason.ends_with("N +* R\n   ^"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn deep_nesting_and_long_input_are_refused_not_overflowed() {
    let deep = format!("{}N{}", "(".repeat(500), ")".repeat(500));
    let e = Formula::parse(&deep).unwrap_err();
    assert!(e.message.contains("nested deeper"), "{e}");
    let minus = format!("{}N", "-".repeat(300));
    assert!(
        Formula::parse(&minus)
            .unwrap_err()
            .message
            .contains("nested deeper")
    );
    let long = format!("N{}", " + N".repeat(2000));
    assert!(
        Formula::parse(&long)
            .unwrap_err()
            .message
            .contains("longer than")
    );
    // Long but within the limits: a 250-term sum parses.
    let sum = format!("N{}", "+R".repeat(250));
    assert!(Formula::parse(&sum).is_ok());
}

#[test]
fn catalogue_refusals_are_typed() {
    assert!(matches!(
        Formula::catalogue("NOT_AN_INDEX"),
        Err(Error::UnknownName { .. })
    ));
    // NDREI needs red edge bands.
    match Formula::catalogue("NDREI") {
        Err(Error::InvalidParameter { reason, .. }) => {
            assert!(reason.contains("red edge"), "{reason}")
        }
        other => panic!("unexpected {other:?}"),
    }
    // kNDVI needs the kernel function.
    match Formula::catalogue("kNDVI") {
        Err(Error::InvalidParameter { reason, .. }) => {
            assert!(reason.contains("kernel"), "{reason}")
        }
        other => panic!("unexpected {other:?}"),
    }
    // Case-insensitive lookup when unambiguous.
    assert_eq!(Formula::catalogue("ndvi").unwrap().name(), Some("NDVI"));
}

#[test]
fn constants_are_checked() {
    let savi = Formula::catalogue("SAVI").unwrap();
    assert!(matches!(
        savi.clone().with_constant("Q", 1.0),
        Err(Error::UnknownName { .. })
    ));
    assert!(matches!(
        savi.clone().with_constant("L", f64::NAN),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        savi.with_constant("L", 1e300),
        Err(Error::InvalidParameter { .. })
    ));
    // A constant without default must be set before running.
    let fai = Formula::catalogue("FAI").unwrap();
    let stack = BandStack::new(
        1,
        1,
        vec![
            Band::new(BandRole::Red, BandData::F32(vec![0.1])),
            Band::new(BandRole::Nir, BandData::F32(vec![0.3])),
            Band::new(BandRole::Swir1, BandData::F32(vec![0.2])),
        ],
    )
    .unwrap();
    match Engine::cpu().formula(&stack, &fai) {
        Err(Error::InvalidParameter { reason, .. }) => assert!(reason.contains("no default")),
        other => panic!("unexpected {other:?}"),
    }
    // A band the stack lacks.
    let evi = Formula::catalogue("EVI").unwrap();
    assert!(matches!(
        Engine::cpu().formula(&stack, &evi),
        Err(Error::MissingBand {
            role: BandRole::Blue,
            ..
        })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary text never panics; an error always points inside the text or just after it.
    #[test]
    fn random_strings_never_panic(text in "\\PC{0,60}") {
        if let Err(e) = Formula::parse(&text) {
            prop_assert!(e.column >= 1 && e.column <= text.chars().count() + 1);
            let _ = e.to_string();
        }
    }

    /// Strings over the formula alphabet reach the checker and the code generator.
    #[test]
    fn random_formula_like_strings_never_panic(
        text in "[BGRNS12L.0-9eE+*/^()<>=!,\\- ]{0,40}|(sqrt|min|where|clamp|log|\\(|\\)|N|R|,|<|\\*\\*|-|2|0\\.5){0,20}"
    ) {
        match Formula::parse(&text) {
            Ok(f) => prop_assert!(f.wgsl().contains("fn pixel_word")),
            Err(e) => prop_assert!(e.column >= 1 && e.column <= text.chars().count() + 1),
        }
    }
}
