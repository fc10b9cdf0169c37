//! `kube-apiserver`: the Kubernetes API server. Start-up follows upstream's:
//! flags → Complete → Validate → server chain → PrepareRun → Run.

mod options;
mod server;

use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: a create on etcd spent ~18% of the server's CPU in
/// glibc's allocator (measured with `perf`; docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turns transparent huge pages off for this process. mimalloc maps its arenas 2 MiB-aligned,
/// so with THP set to `always` (common) every touched arena region becomes a whole huge
/// page: idle RSS went from 13 to 25 MiB. Nothing is touched yet when `main` starts, so this
/// applies to all of the heap that matters. Failure only costs memory, so it is ignored.
fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn init_logging(verbosity: u8) {
    let level = match verbosity {
        0..=1 => tracing::Level::INFO,
        2..=5 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    disable_transparent_huge_pages();
    let opts = match options::parse_and_validate(std::env::args()) {
        Ok(o) => o,
        Err(e) => {
            e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    for w in &opts.warnings {
        eprintln!("Warning: {w}");
    }
    let completed = match options::complete(opts) {
        Ok(c) => c,
        Err(e) => {
            e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    init_logging(completed.verbosity);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::run(completed)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}
