//! Which vector extension the hot per-pixel loops run with, chosen once at run time.
//!
//! The loops are written once, as loops over fixed-width lane arrays that the compiler
//! vectorises, and compiled again for each extension through `#[target_feature]`: a
//! `VectorKernel`'s `run` is `#[inline(always)]`, so it is inlined into, and compiled with
//! the features of, the wrapper that `run_at` picks. Every instantiation computes the
//! same bits: the loops use only correctly rounded IEEE operations and integer arithmetic, and
//! Rust never contracts a multiply and an add into a fused multiply-add on its own.
//!
//! `LANDWATCH_SIMD=portable|avx2|avx512` lowers the choice (never raises it past what the CPU
//! has), for comparisons and benchmarks.

use std::sync::OnceLock;

/// A vector extension the per-pixel loops are compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SimdLevel {
    /// The target's baseline (SSE2 on x86-64), and every other architecture.
    Portable,
    /// x86-64 with AVX2, FMA and BMI2.
    Avx2,
    /// x86-64 with AVX-512 F, BW, DQ and VL.
    Avx512,
}

impl SimdLevel {
    /// The levels this CPU can run, lowest first.
    pub fn available() -> Vec<SimdLevel> {
        let best = detected();
        [SimdLevel::Portable, SimdLevel::Avx2, SimdLevel::Avx512]
            .into_iter()
            .filter(|&l| l <= best)
            .collect()
    }

    /// The level the loops run with: the best this CPU has, or lower if `LANDWATCH_SIMD` says so.
    pub fn current() -> SimdLevel {
        static LEVEL: OnceLock<SimdLevel> = OnceLock::new();
        *LEVEL.get_or_init(|| {
            let asked = match std::env::var("LANDWATCH_SIMD").as_deref() {
                Ok("portable") => SimdLevel::Portable,
                Ok("avx2") => SimdLevel::Avx2,
                _ => SimdLevel::Avx512,
            };
            asked.min(detected())
        })
    }

    /// Its name, as `LANDWATCH_SIMD` spells it.
    pub fn name(self) -> &'static str {
        match self {
            SimdLevel::Portable => "portable",
            SimdLevel::Avx2 => "avx2",
            SimdLevel::Avx512 => "avx512",
        }
    }
}

/// The best level this CPU supports.
fn detected() -> SimdLevel {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512bw") && has!("avx512dq") && has!("avx512vl") {
            return SimdLevel::Avx512;
        }
        if has!("avx2") && has!("fma") && has!("bmi2") {
            return SimdLevel::Avx2;
        }
    }
    SimdLevel::Portable
}

/// A loop to compile once per [`SimdLevel`]. Implementations mark `run` `#[inline(always)]`.
pub(crate) trait VectorKernel {
    /// What the loop returns.
    type Output;
    /// Runs the loop.
    fn run(self) -> Self::Output;
}

/// Runs `kernel` compiled for `level`, which must be one of [`SimdLevel::available`].
pub(crate) fn run_at<K: VectorKernel>(level: SimdLevel, kernel: K) -> K::Output {
    assert!(
        level <= detected(),
        "{level:?} is not available on this CPU"
    );
    match level {
        // SAFETY: the CPU has the level's features (asserted above).
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 => unsafe { x86::avx512(kernel) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 => unsafe { x86::avx2(kernel) },
        _ => kernel.run(),
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::VectorKernel;

    #[target_feature(enable = "avx2,fma,bmi1,bmi2,lzcnt,popcnt,f16c")]
    pub(super) fn avx2<K: VectorKernel>(kernel: K) -> K::Output {
        kernel.run()
    }

    #[target_feature(
        enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi1,bmi2,lzcnt,popcnt,f16c"
    )]
    pub(super) fn avx512<K: VectorKernel>(kernel: K) -> K::Output {
        kernel.run()
    }
}
