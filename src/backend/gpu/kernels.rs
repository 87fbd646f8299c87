//! The kernel registry: every WGSL kernel landwatch runs, and the one rule that assembles
//! it. A kernel's source is, in order:
//!
//! 1. the `const` declarations of the parameter slots it reads ([`crate::pixel::slots`]), so
//!    that shaders name slots (`params.consts[CHANGE_THRESHOLD]`) as Rust does;
//! 2. `shaders/common.wgsl` (the `PixelParams` struct, bindings and sample loading);
//! 3. its own files under `shaders/`, in the order listed here.
//!
//! Formula kernels are generated at run time ([`formula`]) and assembled by the same rule.
//! The unit tests at the end validate every kernel with naga, so a WGSL error shows up on
//! any machine, with or without a GPU driver. Each kernel's CPU twin and parity test are in
//! the twin table of `ARCHITECTURE.md`.

use crate::pixel::slots::{self, Family};
use std::borrow::Cow;
use std::sync::LazyLock;

/// A compute kernel ready for a pipeline: its entry point and its whole WGSL source. Entry
/// point and source form the pipeline cache key.
#[derive(Debug)]
pub(crate) struct Kernel {
    /// Entry point name.
    pub entry: &'static str,
    /// The assembled WGSL source.
    pub source: Cow<'static, str>,
}

/// A family of kernels sharing one assembled source: its shader files, the slot families
/// they read and the entry points it offers.
#[derive(Debug)]
pub(crate) struct KernelFamily {
    /// The family's name, for messages and the twin table.
    pub name: &'static str,
    /// Its files under `shaders/`, in assembly order (after `common.wgsl`).
    #[cfg_attr(not(test), allow(dead_code))]
    pub files: &'static [&'static str],
    /// The parameter slot families its kernels read.
    #[cfg_attr(not(test), allow(dead_code))]
    pub slots: &'static [&'static Family],
    /// Its entry points.
    pub entries: &'static [&'static str],
    source: LazyLock<String>,
}

impl KernelFamily {
    /// The kernel of `entry`, which must be one of the family's entry points.
    pub fn kernel(&'static self, entry: &'static str) -> Kernel {
        debug_assert!(
            self.entries.contains(&entry),
            "{} has no {entry}",
            self.name
        );
        Kernel {
            entry,
            source: Cow::Borrowed(self.source.as_str()),
        }
    }

    /// The kernel of the family's only entry point.
    pub fn only_kernel(&'static self) -> Kernel {
        debug_assert_eq!(self.entries.len(), 1, "{} has several entries", self.name);
        self.kernel(self.entries[0])
    }
}

/// The helpers every kernel source contains.
const COMMON_WGSL: &str = include_str!("../../../shaders/common.wgsl");

/// The entry point shared by per-pixel kernels that write one word per pixel.
const PER_PIXEL_MAIN: &str = include_str!("../../../shaders/per_pixel_main.wgsl");

/// The assembly rule: slot declarations, `common.wgsl`, then the parts.
fn assemble(slots: &[&Family], parts: &[&str]) -> String {
    let mut source = String::new();
    for family in slots {
        source.push_str(family.wgsl);
    }
    source.push_str(COMMON_WGSL);
    for part in parts {
        source.push('\n');
        source.push_str(part);
    }
    source
}

/// Declares a kernel family: its entry points, slot families and files under `shaders/`.
macro_rules! family {
    ($(#[$doc:meta])* $name:ident { entries: [$($entry:literal),+], slots: [$($slots:ident),*], files: [$($file:literal),+ $(,)?] $(,)? }) => {
        $(#[$doc])*
        pub(crate) static $name: KernelFamily = KernelFamily {
            name: stringify!($name),
            files: &[$($file),+],
            slots: &[$(&slots::$slots::FAMILY),*],
            entries: &[$($entry),+],
            source: LazyLock::new(|| {
                assemble(
                    &[$(&slots::$slots::FAMILY),*],
                    &[$(include_str!(concat!("../../../shaders/", $file))),+],
                )
            }),
        };
    };
}

family!(
    /// Built-in spectral indices, one f32 per pixel.
    INDEX {
        entries: ["per_pixel_main"],
        slots: [index],
        files: ["index.wgsl", "per_pixel_main.wgsl"],
    }
);

family!(
    /// Land-cover classification, one class code per pixel.
    CLASSIFY {
        entries: ["packed_u8_main"],
        slots: [classify],
        files: ["classify_rules.wgsl", "classify.wgsl", "packed_u8_main.wgsl"],
    }
);

family!(
    /// Pass 1 of change detection: one packed word per pixel ([`crate::change::PassOneWord`]).
    CHANGE_PASS_ONE {
        entries: ["per_pixel_main"],
        slots: [classify, change],
        files: ["classify_rules.wgsl", "change.wgsl", "change_pass1.wgsl", "per_pixel_main.wgsl"],
    }
);

family!(
    /// The histogram of pass-1 measures (65,536 bins).
    CHANGE_HISTOGRAM {
        entries: ["change_histogram_main"],
        slots: [],
        files: ["change_histogram.wgsl"],
    }
);

family!(
    /// Pass 2 of change detection: one change code per pixel.
    CHANGE_CODES {
        entries: ["packed_u8_main"],
        slots: [change_codes],
        files: ["change_rules.wgsl", "change_codes.wgsl", "packed_u8_main.wgsl"],
    }
);

family!(
    /// Change detection in one pass with a known threshold: classes and code in one word.
    CHANGE_FUSED {
        entries: ["per_pixel_main"],
        slots: [classify, change],
        files: [
            "classify_rules.wgsl",
            "change.wgsl",
            "change_rules.wgsl",
            "change_fused.wgsl",
            "per_pixel_main.wgsl",
        ],
    }
);

family!(
    /// The contextual change detector over a window of rows: scores, then decisions.
    CHANGE_CONTEXT {
        entries: ["context_scores", "context_decide"],
        slots: [classify],
        files: ["classify_rules.wgsl", "change_rules.wgsl", "change_context.wgsl"],
    }
);

family!(
    /// Opening and closing of a change-code raster.
    MORPHOLOGY {
        entries: ["morph_erode_classes", "morph_open_final", "morph_dilate_sets", "morph_close_final"],
        slots: [raster, morphology],
        files: ["label_grid.wgsl", "morphology.wgsl"],
    }
);

family!(
    /// Connected-component labelling by union-find, in six dispatches.
    LABEL {
        entries: ["label_init", "label_merge", "label_compress", "label_scan", "label_assign", "label_relabel"],
        slots: [raster, label],
        files: ["label_grid.wgsl", "label.wgsl"],
    }
);

/// Every kernel family with a fixed source.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) static FAMILIES: [&KernelFamily; 9] = [
    &INDEX,
    &CLASSIFY,
    &CHANGE_PASS_ONE,
    &CHANGE_HISTOGRAM,
    &CHANGE_CODES,
    &CHANGE_FUSED,
    &CHANGE_CONTEXT,
    &MORPHOLOGY,
    &LABEL,
];

/// The files a generated formula kernel is assembled with, after its generated body.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const FORMULA_FILES: [&str; 1] = ["per_pixel_main.wgsl"];

/// A generated formula kernel: `body` (from [`crate::formula`]) defines `fn pixel_word(i:
/// u32) -> vec2<u32>`, and the shared per-pixel entry point is appended.
pub(crate) fn formula(body: &str) -> Kernel {
    Kernel {
        entry: "per_pixel_main",
        source: Cow::Owned(assemble(
            &[&slots::formula::FAMILY],
            &[body, PER_PIXEL_MAIN],
        )),
    }
}

#[cfg(test)]
mod tests {
    //! Validation of every kernel with naga, needing no GPU and no driver; and the check
    //! that the Rust and WGSL parameter structs agree byte for byte.
    use super::*;
    use crate::pixel::slots::{Array, SlotInfo};

    fn validate(name: &str, source: &str) -> (naga::Module, naga::valid::ModuleInfo) {
        let module = naga::front::wgsl::parse_str(source)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
        let info = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::default(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
        (module, info)
    }

    /// Byte offsets of the members of the WGSL struct `name`, and its size.
    fn wgsl_layout(module: &naga::Module, name: &str) -> (Vec<(String, u32)>, u32) {
        let (_, ty) = module
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no struct {name}"));
        let naga::TypeInner::Struct { members, span } = &ty.inner else {
            panic!("{name} is not a struct");
        };
        let fields = members
            .iter()
            .map(|m| (m.name.clone().unwrap_or_default(), m.offset))
            .collect();
        (fields, *span)
    }

    #[test]
    fn every_registered_kernel_is_valid_wgsl_with_its_entry_points() {
        for family in FAMILIES {
            let (module, _) = validate(family.name, &family.source);
            for entry in family.entries {
                assert!(
                    module.entry_points.iter().any(|e| e.name == *entry),
                    "{} lacks the entry point {entry}",
                    family.name
                );
            }
        }
    }

    #[test]
    fn generated_formula_kernels_are_valid_wgsl() {
        for text in [
            "(N - R) / (N + R)",
            "where(N > R, sqrt(abs(N - R)) / (N + R + 0.1), min(S1, S2) ** 2)",
            "g * (N - R) / (N + C1 * R - C2 * B + L)",
            "clamp(exp(-B) + log(G), 0, 1)",
        ] {
            let parsed = crate::Formula::parse(text).unwrap();
            let kernel = formula(parsed.wgsl());
            let (module, _) = validate(text, &kernel.source);
            assert!(module.entry_points.iter().any(|e| e.name == kernel.entry));
        }
    }

    /// Every file under `shaders/` is part of some kernel.
    #[test]
    fn every_shader_file_is_assembled_into_a_kernel() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if !name.ends_with(".wgsl") || name == "common.wgsl" {
                continue;
            }
            let used = FAMILIES.iter().any(|f| f.files.contains(&name.as_str()))
                || FORMULA_FILES.contains(&name.as_str());
            assert!(used, "shaders/{name} is in no kernel of the registry");
        }
    }

    /// Slot families read by one kernel must not share a slot.
    #[test]
    fn the_slot_families_of_a_kernel_do_not_overlap() {
        for family in FAMILIES {
            let all: Vec<&SlotInfo> = family.slots.iter().flat_map(|f| f.slots).collect();
            for (i, a) in all.iter().enumerate() {
                for b in &all[i + 1..] {
                    let overlap = a.array == b.array
                        && a.start < b.start + b.len
                        && b.start < a.start + a.len;
                    assert!(
                        !overlap,
                        "{}: {} and {} share a slot",
                        family.name, a.name, b.name
                    );
                }
            }
        }
        assert!(
            slots::formula::FAMILY
                .slots
                .iter()
                .all(|s| s.array == Array::Float)
        );
    }

    #[test]
    fn pixel_params_have_the_same_layout_in_rust_and_wgsl() {
        use crate::pixel::PixelParams;
        use std::mem::{offset_of, size_of};
        let (module, _) = validate("INDEX", &INDEX.source);
        let (fields, size) = wgsl_layout(&module, "PixelParams");
        let rust = [
            ("count", offset_of!(PixelParams, count)),
            ("op", offset_of!(PixelParams, op)),
            ("n_slots", offset_of!(PixelParams, n_slots)),
            ("slot_offset", offset_of!(PixelParams, slot_offset)),
            ("slot_dtype", offset_of!(PixelParams, slot_dtype)),
            ("slot_has_nodata", offset_of!(PixelParams, slot_has_nodata)),
            ("slot_nodata", offset_of!(PixelParams, slot_nodata)),
            ("consts", offset_of!(PixelParams, consts)),
            ("iconsts", offset_of!(PixelParams, iconsts)),
        ];
        for (name, offset) in rust {
            let wgsl = fields.iter().find(|(n, _)| n == name);
            assert_eq!(
                wgsl.map(|f| f.1 as usize),
                Some(offset),
                "PixelParams.{name}"
            );
        }
        assert_eq!(size as usize, size_of::<PixelParams>());
    }

    #[test]
    fn context_params_have_the_same_layout_in_rust_and_wgsl() {
        use crate::change::context::ContextParams;
        use std::mem::size_of;
        let (module, _) = validate("CHANGE_CONTEXT", &CHANGE_CONTEXT.source);
        let (fields, size) = wgsl_layout(&module, "ContextParams");
        assert_eq!(size as usize, size_of::<ContextParams>());
        let rust = ContextParams::field_offsets();
        let named: Vec<_> = fields.iter().filter(|(n, _)| n != "pad").collect();
        assert_eq!(named.len(), rust.len(), "{named:?} against {rust:?}");
        for ((name, offset), (rust_name, rust_offset)) in named.iter().zip(rust) {
            assert_eq!((name.as_str(), *offset as usize), (rust_name, rust_offset));
        }
    }
}
