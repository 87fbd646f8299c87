//! Serde for the types the `serde` feature cannot derive it on in place: the backend's
//! report types (as remote definitions) and fields holding `&'static str` names, which are
//! read back as the crate's own names.

use crate::backend::gpu::AdapterSummary;
use crate::backend::{BackendChoice, Device, Execution};
use crate::error::GpuFailure;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// [`Device`], as serde sees it.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Device")]
enum DeviceDef {
    Cpu { threads: usize },
    Gpu(#[serde(with = "AdapterSummaryDef")] AdapterSummary),
}

/// [`AdapterSummary`], as serde sees it.
#[derive(Serialize, Deserialize)]
#[serde(remote = "AdapterSummary")]
struct AdapterSummaryDef {
    name: String,
    api: String,
    device_type: String,
    driver: String,
    is_software: bool,
}

/// [`Execution`], as serde sees it (`#[serde(with = "ExecutionDef")]`).
#[derive(Serialize, Deserialize)]
#[serde(remote = "Execution")]
pub(crate) struct ExecutionDef {
    #[serde(with = "DeviceDef")]
    device: Device,
    fallback: Option<GpuFailure>,
}

/// [`BackendChoice`], as serde sees it.
#[derive(Serialize, Deserialize)]
#[serde(remote = "BackendChoice")]
struct BackendChoiceDef {
    gpu_seconds: f64,
    cpu_seconds: f64,
    #[serde(with = "DeviceDef")]
    chosen: Device,
}

/// `Option<BackendChoice>` (`#[serde(with = "option_backend_choice")]`).
pub(crate) mod option_backend_choice {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Wrapped(#[serde(with = "BackendChoiceDef")] BackendChoice);

    #[derive(Serialize)]
    struct WrappedRef<'a>(#[serde(with = "BackendChoiceDef")] &'a BackendChoice);

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<BackendChoice>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        value.as_ref().map(WrappedRef).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<BackendChoice>, D::Error> {
        Ok(Option::<Wrapped>::deserialize(d)?.map(|Wrapped(c)| c))
    }
}

/// One of `names`, read back as the crate's own `&'static str`.
fn static_name<'de, D: Deserializer<'de>>(
    d: D,
    what: &str,
    names: impl IntoIterator<Item = &'static str>,
) -> Result<&'static str, D::Error> {
    let name = String::deserialize(d)?;
    names
        .into_iter()
        .find(|n| *n == name)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown {what} '{name}'")))
}

/// A stage's name ([`crate::job::StageTime::stage`]).
pub(crate) fn stage_name<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let stages = ["plan", "change", "gather", "morphology", "patches", "write"];
    static_name(d, "stage", stages)
}

/// A change type's name ([`crate::patch::PatchAttributes::change_type`]).
pub(crate) fn change_type_name<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    static_name(
        d,
        "change type",
        (0..=255u8).map(crate::change::change_name),
    )
}
