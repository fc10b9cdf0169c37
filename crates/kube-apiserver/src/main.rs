//! `kube-apiserver`: the Kubernetes API server. Start-up follows upstream's:
//! flags → Complete → Validate → server chain → PrepareRun → Run.

mod options;
mod server;

use std::process::ExitCode;

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
