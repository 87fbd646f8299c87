//! The engine's patch entry points: morphology and labelling on the GPU when there is one,
//! on the CPU otherwise or when the GPU fails, with the same [`Execution`] report as every
//! other kernel.

use super::morphology::{
    MorphOp, MorphScope, Morphology, StructuringElement, check_raster, morphology,
};
use crate::backend::gpu::label::label_on_gpu;
use crate::backend::gpu::morphology::morphology_on_gpu;
use super::{Connectivity, Labels};
use crate::backend::gpu::GpuContext;
use crate::backend::{Computed, Engine};
use crate::error::Result;
use crate::raster::Raster;

impl Engine {
    /// Opening or closing of a change-code raster with `element`, per change type or over the
    /// whole change mask (semantics in [`crate::patch::morphology`]). The GPU and the CPU
    /// give the same raster bit for bit. Fails when the data does not match the size.
    pub fn morphology(
        &self,
        codes: &Raster<u8>,
        op: MorphOp,
        element: StructuringElement,
        scope: MorphScope,
    ) -> Result<Computed<Raster<u8>>> {
        check_raster(codes)?;
        let m = Morphology { op, element, scope };
        let computed = self.gpu_or_cpu(
            &mut (),
            |gpu, _| {
                morphology_on_gpu(gpu, codes, &m).map(|data| {
                    Ok(Raster {
                        width: codes.width,
                        height: codes.height,
                        data,
                        nodata: crate::change::CHANGE_NODATA,
                        georef: codes.georef,
                    })
                })
            },
            |_| morphology(codes, &m),
        );
        Ok(Computed {
            output: computed.output?,
            execution: computed.execution,
        })
    }

    /// Connected-component labelling of a change-code raster (codes 0 and 255 are background,
    /// different codes never join) into canonical ids: on the GPU in a fixed number of
    /// dispatches ([`crate::patch::gpu_label`]); on the CPU ([`crate::patch::label()`], which
    /// gives the same canonical ids) when there is no GPU, when it fails, or when the raster
    /// does not fit one storage binding. Fails when the raster is empty or its data does not
    /// match its size.
    pub fn label(
        &self,
        codes: &Raster<u8>,
        connectivity: Connectivity,
    ) -> Result<Computed<Labels>> {
        crate::patch::label::check_grid(codes.data.len(), codes.width, codes.height)?;
        let computed = self.gpu_or_cpu(
            &mut (),
            |gpu, _| label_on_gpu(gpu, codes, connectivity).map(Ok),
            |_| crate::patch::label(codes, connectivity),
        );
        Ok(Computed {
            output: computed.output?,
            execution: computed.execution,
        })
    }

    /// Compute dispatches recorded on this engine's GPU so far (0 without a GPU): lets tests
    /// check that a job takes a bounded number of passes.
    pub fn gpu_dispatch_count(&self) -> u64 {
        self.gpu().map_or(0, GpuContext::dispatch_count)
    }
}
