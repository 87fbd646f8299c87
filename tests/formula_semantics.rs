//! What a formula means, pixel by pixel, on both backends: nodata rules, radiometry, powers,
//! functions and where(...).

mod common;

use common::{assert_ran_on_gpu, gpu_engine};
use landwatch::formula::Formula;
use landwatch::{
    Band, BandData, BandRole, BandStack, Engine, GpuOptions, INDEX_NODATA, Sensor, SpectralIndex,
};

const ND: f32 = INDEX_NODATA;

/// A stack of F32 red and NIR columns with identity radiometry.
fn stack(red: &[f32], nir: &[f32]) -> BandStack {
    BandStack::new(
        red.len(),
        1,
        vec![
            Band::new(BandRole::Red, BandData::F32(red.to_vec())),
            Band::new(BandRole::Nir, BandData::F32(nir.to_vec())).with_nodata(-1.0),
        ],
    )
    .unwrap()
}

/// Runs `text` on the CPU and, when there is one, on the GPU; returns the CPU values after
/// checking that the GPU gives the same to 1e-5 and the same nodata pixels.
fn run(stack: &BandStack, text: &str) -> Vec<f32> {
    let f = Formula::parse(text).unwrap();
    let cpu = Engine::cpu().formula(stack, &f).unwrap().output.data;
    if let Some(gpu) = gpu_engine(GpuOptions::default()) {
        let g = gpu.formula(stack, &f).unwrap();
        assert_ran_on_gpu(&g.execution);
        for (i, (&c, &g)) in cpu.iter().zip(&g.output.data).enumerate() {
            assert!(
                (c == ND) == (g == ND) && (c - g).abs() <= 1e-5 * c.abs().max(1.0),
                "{text} pixel {i}: cpu {c} gpu {g}"
            );
        }
    }
    cpu
}

#[test]
fn division_by_zero_nan_and_nodata_inputs_give_nodata() {
    let s = stack(
        &[0.0, 0.2, 0.1, f32::NAN, 0.1],
        &[0.0, 0.2, -1.0, 0.3, f32::INFINITY],
    );
    assert_eq!(run(&s, "(N - R) / (N + R)"), vec![ND, 0.0, ND, ND, ND]);
    // 1 / (1 / 0) is nodata, not 0: an undefined intermediate poisons the value it feeds.
    let s = stack(&[0.0, 0.5], &[1.0, 1.0]);
    assert_eq!(run(&s, "1 / (1 / R) + N"), vec![ND, 1.5]);
}

#[test]
fn domains_of_functions_and_powers() {
    let s = stack(&[-8.0, 0.0, 4.0, -2.0], &[1.0, 1.0, 1.0, 1.0]);
    assert_eq!(run(&s, "sqrt(R) * N"), vec![ND, 0.0, 2.0, ND]);
    assert_eq!(run(&s, "log(R) * N")[..2], [ND, ND]);
    // Integer literal powers are multiplications, fine for negative bases.
    assert_eq!(run(&s, "R ** 2 * N"), vec![64.0, 0.0, 16.0, 4.0]);
    assert_eq!(run(&s, "R ^ 3 * N"), vec![-512.0, 0.0, 64.0, -8.0]);
    assert_eq!(run(&s, "R ** -1 * N"), vec![-0.125, ND, 0.25, -0.5]);
    // A real power of a negative base is undefined; zero to a negative power too.
    let cube_root = run(&s, "R ** (1/3) * N");
    assert_eq!(cube_root[0], ND);
    assert_eq!(cube_root[1], 0.0);
    assert!((cube_root[2] - 4f32.powf(1.0 / 3.0)).abs() < 1e-6);
    // Python precedence: -x**2 is -(x**2), and ** is right-associative.
    assert_eq!(run(&s, "-R**2 + 0*N"), vec![-64.0, 0.0, -16.0, -4.0]);
    let s = stack(&[2.0], &[1.0]);
    assert_eq!(run(&s, "R ** 3 ** 2 * N"), vec![512.0]);
}

#[test]
fn functions_and_where() {
    let s = stack(&[0.1, 0.5, 0.9], &[0.4, 0.4, 0.4]);
    assert_eq!(run(&s, "min(N, R)"), vec![0.1, 0.4, 0.4]);
    assert_eq!(run(&s, "max(N, R)"), vec![0.4, 0.5, 0.9]);
    assert_eq!(run(&s, "clamp(R, 0.2, N)"), vec![0.2, 0.4, 0.4]);
    let want: Vec<f32> = [0.1f32, 0.5, 0.9]
        .iter()
        .map(|r| (0.4 - r).abs() * 10.0)
        .collect();
    assert_eq!(run(&s, "abs(N - R) * 10"), want);
    assert_eq!(run(&s, "where(R < N, 1, 2) + 0 * N"), vec![1.0, 2.0, 2.0]);
    assert_eq!(run(&s, "where(R >= 0.5, R, N)"), vec![0.4, 0.5, 0.9]);
    assert_eq!(run(&s, "where(R == 0.5, 1, 0) * N"), vec![0.0, 0.4, 0.0]);
    assert_eq!(run(&s, "where(R != 0.5, 1, 0) * N"), vec![0.4, 0.0, 0.4]);
    assert_eq!(run(&s, "where(R <= 0.1, 1, 0) * N"), vec![0.4, 0.0, 0.0]);
    assert_eq!(run(&s, "where(R > 0.5, 1, 0) * N"), vec![0.0, 0.0, 0.4]);
    let e = run(&s, "exp(R) + 0 * N");
    assert!((e[0] - 0.1f32.exp()).abs() < 1e-6);
    // The branch not taken may be undefined.
    let s = stack(&[0.0, 0.5], &[1.0, 1.0]);
    assert_eq!(run(&s, "where(R > 0, N / R, 0)"), vec![0.0, 2.0]);
    // An undefined condition makes the pixel undefined.
    assert_eq!(run(&s, "where(N / R > 1, 1, 0)"), vec![ND, 1.0]);
}

#[test]
fn radiometry_turns_digital_numbers_into_reflectance() {
    // Sentinel-2 L2A: reflectance = DN / 10000 - 0.1.
    let red = vec![1000u16, 2000, 3000, 0];
    let nir = vec![5000u16, 2000, 1000, 0];
    let mut s = BandStack::new(
        4,
        1,
        vec![
            Band::new(BandRole::Red, BandData::U16(red)).with_nodata(0.0),
            Band::new(BandRole::Nir, BandData::U16(nir)).with_nodata(0.0),
        ],
    )
    .unwrap();
    s.set_radiometry(Sensor::sentinel2_l2a().radiometry)
        .unwrap();
    let r = run(&s, "R + 0 * N");
    assert!((r[0] - 0.0).abs() < 1e-7 && (r[1] - 0.1).abs() < 1e-7 && (r[2] - 0.2).abs() < 1e-7);
    assert_eq!(r[3], ND);
    // The formula NDVI equals the built-in one, which works in DN with a shifted denominator.
    let f = run(&s, "(N - R) / (N + R)");
    let built_in = Engine::cpu()
        .index(&s, SpectralIndex::Ndvi)
        .unwrap()
        .output
        .data;
    for (a, b) in f.iter().zip(&built_in) {
        assert!((a - b).abs() <= 1e-6, "{a} vs {b}");
    }
}

#[test]
fn named_constants_can_be_overridden() {
    let s = stack(&[0.1, 0.2], &[0.5, 0.4]);
    let savi = Formula::catalogue("SAVI").unwrap();
    assert_eq!(savi.constants(), vec![("L", Some(0.5))]);
    let l0 = savi.with_constant("L", 0.0).unwrap();
    let out = Engine::cpu().formula(&s, &l0).unwrap().output.data;
    let ndvi = run(&s, "(N - R) / (N + R)");
    for (a, b) in out.iter().zip(&ndvi) {
        assert!((a - b).abs() <= 1e-6);
    }
    // A free formula gets the catalogue's most common default.
    let f = Formula::parse("(1 + L) * (N - R) / (N + R + L)").unwrap();
    assert_eq!(f.constants(), vec![("L", Some(0.5))]);
    let f = Formula::parse("g * (N - R) / (N + C1 * R - C2 * R + 1)").unwrap();
    assert_eq!(
        f.constants(),
        vec![("g", Some(2.5)), ("C1", Some(6.0)), ("C2", Some(7.5))]
    );
}

#[test]
fn the_generated_wgsl_holds_no_user_text() {
    let f = Formula::parse("(N - R) / (N + R + 0.1) + where(N > 1e-3, 2 ** 0.25, L)").unwrap();
    let w = f.wgsl();
    for user in ["(N - R)", "N >", "L)", "**", "where"] {
        assert!(!w.contains(user), "{user} found in\n{w}");
    }
    assert!(
        w.contains("0.1f")
            && w.contains("0.001f")
            && w.contains("params.consts[FORMULA_CONSTANTS + 0u]")
    );
}
