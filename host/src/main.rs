//! The `revops` binary: the command line (see `revops --help`).

use std::process::ExitCode;

fn main() -> ExitCode {
    revops::cli::main()
}
