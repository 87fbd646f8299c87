//! Lists the GPU adapters landwatch can see, best first, and what each backend choice uses.
//!
//! ```text
//! cargo run --release --example adapters
//! ```

use landwatch::backend::gpu::list_adapters;
use landwatch::{Backend, Engine};

fn main() {
    let adapters = list_adapters();
    if adapters.is_empty() {
        println!("no GPU adapter (no Vulkan or GL driver found)");
    }
    for (i, a) in adapters.iter().enumerate() {
        println!("adapter {i}: {a}");
    }
    for backend in [Backend::Auto, Backend::Gpu] {
        let engine = Engine::new(backend);
        match (engine.gpu_adapter(), engine.gpu_unavailable()) {
            (Some(a), _) => println!("{backend:?} runs on {a}"),
            (None, Some(why)) => println!("{backend:?} runs on the CPU: {why}"),
            (None, None) => println!("{backend:?} runs on the CPU"),
        }
    }
}
