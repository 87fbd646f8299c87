//! [`Engine::formula`]: a formula's per-pixel job, run on the GPU with the CPU as fallback.

use super::Formula;
use crate::pixel::slots::formula::{FORMULA_CONSTANTS, FORMULA_OFFSET, FORMULA_SCALE};
use crate::backend::{Computed, Engine, cpu};
use crate::error::{Error, Result};
use crate::pixel::{INDEX_NODATA, PixelJob};
use crate::raster::{BandStack, Raster};

/// Operation code of formula jobs (the generated kernel ignores it).
const OP_FORMULA: u32 = 0;

impl Formula {
    /// The per-pixel job: slots in band order, constants 0 and 1 the radiometry, then the
    /// named constants.
    fn job<'a>(&self, stack: &'a BandStack) -> Result<PixelJob<'a>> {
        let label = self.to_string();
        let mut job = PixelJob::new(stack, OP_FORMULA, self.bands(), &label)?;
        let r = stack.radiometry;
        r.validate()?;
        job.set_const(FORMULA_SCALE, "scale", r.scale)?;
        job.set_const(FORMULA_OFFSET, "offset", r.offset)?;
        for (i, (name, value)) in self.constants().into_iter().enumerate() {
            let Some(v) = value else {
                return Err(Error::InvalidParameter {
                    name: name.to_string(),
                    value: "unset".into(),
                    reason: format!(
                        "{label} uses the constant {name}, which has no default: set it with \
                         Formula::with_constant"
                    ),
                });
            };
            job.set_const(FORMULA_CONSTANTS.at(i), name, v)?;
        }
        Ok(job)
    }
}

impl Engine {
    /// Evaluates `formula` on every pixel of `stack`, on the GPU when the engine has one (the
    /// CPU taking over, with the reason, if it fails). Undefined pixels hold
    /// [`INDEX_NODATA`]; fails with [`Error::MissingBand`] when the stack lacks a band the
    /// formula reads and [`Error::AllNodata`] when no pixel is defined.
    pub fn formula(&self, stack: &BandStack, formula: &Formula) -> Result<Computed<Raster<f32>>> {
        let job = formula.job(stack)?;
        let mut out = vec![0f32; stack.len()];
        let execution = self.run(
            &job,
            &mut out,
            |gpu, job, out| gpu.generated_index(&formula.wgsl, job, out),
            |job, out| {
                cpu::run_pixels(job, out, |p, chunk, o| formula.plan.eval_chunk(p, chunk, o))
            },
            &formula.to_string(),
        )?;
        Ok(Computed {
            output: Raster {
                width: stack.width(),
                height: stack.height(),
                data: out,
                nodata: INDEX_NODATA,
                georef: stack.georef,
            },
            execution,
        })
    }
}
