//! The `revops` binary. Started by lightningd (which sets `LIGHTNINGD_PLUGIN=1`) it is the
//! plugin; run by a person it is the command line (`revops --help`).

use std::process::ExitCode;

fn main() -> ExitCode {
    // Started by revops itself to compile a large policy into its cache (runtime::compile_child).
    if let Some(code) = revops::runtime::run_policy_compiler_if_child() {
        return code;
    }
    if std::env::var_os("LIGHTNINGD_PLUGIN").is_some_and(|v| v == "1") {
        return match revops::plugin::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                // stdout belongs to the protocol; lightningd logs our stderr.
                eprintln!("revops plugin: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
    revops::cli::main()
}
