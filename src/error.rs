//! The one error type of the crate: every fallible call returns [`Error`].

use crate::band_role::BandRole;
use std::path::PathBuf;

/// Result alias used throughout landwatch.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a GPU run could not be completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum GpuFailureKind {
    /// No usable adapter was found (no driver, or only a software adapter while not allowed).
    NoAdapter,
    /// The device was lost or stopped answering.
    DeviceLost,
    /// A buffer could not be allocated.
    OutOfMemory,
    /// The work exceeds a limit of the adapter that chunking cannot get around.
    LimitExceeded,
    /// The driver rejected a command or shader (a bug in landwatch or the driver).
    Validation,
}

/// A GPU failure with its cause, kept so that callers can see why the CPU took over.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GpuFailure {
    /// The class of failure.
    pub kind: GpuFailureKind,
    /// The driver's or wgpu's own words.
    pub message: String,
}

impl std::fmt::Display for GpuFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            GpuFailureKind::NoAdapter => "no adapter",
            GpuFailureKind::DeviceLost => "device lost",
            GpuFailureKind::OutOfMemory => "out of memory",
            GpuFailureKind::LimitExceeded => "limit exceeded",
            GpuFailureKind::Validation => "validation error",
        };
        write!(f, "{kind}: {}", self.message)
    }
}

impl GpuFailure {
    /// Builds a failure of `kind` with a message.
    pub fn new(kind: GpuFailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// Everything that can go wrong in landwatch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A raster with zero width or height.
    #[error("empty raster ({width}×{height}): there are no pixels to process")]
    EmptyRaster {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
    },
    /// A band whose sample count does not match the raster size.
    #[error("band {band} holds {len} samples, but a {width}×{height} raster needs {expected}")]
    BandLength {
        /// Zero-based band number.
        band: usize,
        /// Samples present.
        len: usize,
        /// Raster width.
        width: usize,
        /// Raster height.
        height: usize,
        /// Samples needed (width × height).
        expected: usize,
    },
    /// Two rasters that must share a grid do not.
    #[error("grid mismatch: {what}")]
    GridMismatch {
        /// What differs, in words (sizes, pixel size, CRS, origin).
        what: String,
    },
    /// A computation needs a band the stack does not carry.
    #[error("{needed_by} needs the {role} band, which this stack lacks (it has: {available})")]
    MissingBand {
        /// The index or step that needs the band.
        needed_by: String,
        /// The missing band role.
        role: BandRole,
        /// The roles the stack does have, comma separated.
        available: String,
    },
    /// Two bands in a stack were given the same role.
    #[error("the {role} role is given to more than one band")]
    DuplicateRole {
        /// The repeated role.
        role: BandRole,
    },
    /// Every pixel is nodata, NaN or infinite in the bands a computation reads.
    #[error("every pixel is nodata, NaN or infinite in the input of {what}")]
    AllNodata {
        /// The computation that found no valid pixel.
        what: String,
    },
    /// A parameter outside its valid range (NaN thresholds, zero scale, ...).
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: String,
        /// The value given.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// A name (sensor, band role, index) that landwatch does not know.
    #[error("unknown {kind} '{name}' (known: {known})")]
    UnknownName {
        /// What kind of name: "sensor", "band role", ...
        kind: &'static str,
        /// The name given.
        name: String,
        /// The accepted names.
        known: String,
    },
    /// A raster larger than a configured limit; refused before allocating.
    #[error("raster too large: {what}")]
    TooLarge {
        /// What exceeds which limit.
        what: String,
    },
    /// The GPU could not do the work (and no CPU fallback was allowed).
    #[error("GPU failure ({0})")]
    Gpu(GpuFailure),
    /// An operating-system I/O error on a path.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A CRS that landwatch cannot compute ground positions or areas in.
    #[error("unsupported CRS {crs}: {reason}")]
    UnsupportedCrs {
        /// The CRS, as landwatch names it.
        crs: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// An input whose georeferencing cannot serve the job, checked before any work.
    #[error("{path}: {reason}")]
    Georeference {
        /// The file involved.
        path: PathBuf,
        /// What is wrong with its georeferencing (CRS named).
        reason: String,
    },
    /// A date whose samples are not what the job was told they are (digital numbers read as
    /// reflectance, or no valid pixel at all).
    #[error("{path} ({date} date): {reason}")]
    Samples {
        /// The file involved.
        path: PathBuf,
        /// Which date of the pair it is (`before` or `after`).
        date: &'static str,
        /// What was found and what is expected.
        reason: String,
    },
    /// An output that would be written over one of the run's own inputs.
    #[error(
        "{output}: this output is the input {input}; writing it would destroy the input: choose another output path or folder"
    )]
    OutputIsInput {
        /// The output path.
        output: PathBuf,
        /// The input it is (the same file, compared by device and inode).
        input: PathBuf,
    },
    /// An output folder another landwatch run is writing into.
    #[error(
        "{path}: another landwatch job is writing into this folder; wait for it to end or choose another folder"
    )]
    OutputBusy {
        /// The output folder.
        path: PathBuf,
    },
    /// A run stopped on request (Ctrl-C, SIGTERM or a cancel flag); nothing was published.
    #[error("cancelled: the run was interrupted and the output folder was left as it was")]
    Cancelled,
    /// A shard manifest, or a shard's files, that cannot be used: another schema or
    /// version, another job, inputs changed since the plan.
    #[error("{path}: {reason}")]
    Manifest {
        /// The manifest or shard file involved.
        path: PathBuf,
        /// What is wrong, and what to do.
        reason: String,
    },
    /// A merge asked for before every shard completed: run the shards named (again).
    #[error(
        "{manifest}: {} of the plan's shards have not completed: {}; run them (again) before the merge",
        shards.len(), shards.join(", ")
    )]
    ShardsIncomplete {
        /// The manifest.
        manifest: PathBuf,
        /// The shards not complete, as `index (id): why`.
        shards: Vec<String>,
    },
    /// A file that is not a valid (Geo)TIFF, or one that is truncated or corrupt.
    #[error("{path}: invalid or unsupported TIFF: {reason}")]
    InvalidTiff {
        /// The file involved.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl Error {
    /// Whether the input or the settings are at fault (the run was refused, or cannot read
    /// what it was given), rather than the machine or landwatch: a command line exits with
    /// 2 for these. I/O errors count as bad input when the file is missing, unreadable or
    /// malformed; a full disk or a broken device does not.
    pub fn is_bad_input(&self) -> bool {
        use std::io::ErrorKind as K;
        match self {
            Error::Gpu(_)
            | Error::OutputBusy { .. }
            | Error::Cancelled
            | Error::ShardsIncomplete { .. } => false,
            Error::Io { source, .. } => matches!(
                source.kind(),
                K::NotFound
                    | K::PermissionDenied
                    | K::InvalidData
                    | K::InvalidInput
                    | K::UnexpectedEof
                    | K::IsADirectory
                    | K::NotADirectory
                    | K::AlreadyExists
                    | K::ReadOnlyFilesystem
            ),
            _ => true,
        }
    }
}

impl From<GpuFailure> for Error {
    fn from(failure: GpuFailure) -> Self {
        Error::Gpu(failure)
    }
}
