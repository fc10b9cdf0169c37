//! REST endpoints: content negotiation, rendering, and the generic verb handlers.

pub mod apply;
mod connect_options;
pub mod indent;
pub mod negotiate;
pub mod options;
pub mod protobuf;
pub mod render;
pub mod resource;
mod subresource;
pub mod warnings;

/// Bodies from this size on are decoded and patched off the async worker threads.
pub const HEAVY_BODY_BYTES: usize = 16 * 1024;

/// Runs CPU-bound request work (decoding a large body, applying a patch) so that it does
/// not hold an async worker thread: on the multi-threaded runtime the worker hands its
/// other tasks to another thread for the duration (`block_in_place`), so a few heavy
/// requests cannot starve every other request of the runtime. Elsewhere (a
/// current-thread runtime, as in unit tests) `f` simply runs.
pub fn cpu_bound<R>(heavy: bool, f: impl FnOnce() -> R) -> R {
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if heavy && multi_thread {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}
