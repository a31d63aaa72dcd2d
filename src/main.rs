//! The `aec` command-line tool: a thin layer that parses arguments, calls the library and
//! reports. Exit codes: 0 success, 1 I/O or other failure, 2 bad usage, 3 invalid or corrupt
//! input, 4 file made by an unknown model, 5 output exists (no `--force`).

mod cli;

use std::process::ExitCode;

use clap::Parser;

use cli::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::set_device(cli::device_of(cli.backend));
    cli::io::signals::install();
    let result = match cli.command {
        Command::Compress(args) => cli::commands::compress(args),
        Command::Decompress(args) => cli::commands::decompress(args),
        Command::Info(args) => cli::commands::info(args),
        Command::Levels(args) => cli::commands::levels(args),
        Command::Train(args) => cli::commands::train(args),
        Command::Bench(args) => cli::commands::bench(args),
        Command::Compare(args) => cli::commands::compare(args),
        Command::Denoise(args) => cli::commands::denoise(args),
        Command::EvalMnist(args) => cli::commands::eval_mnist(args),
        Command::Encode(args) => cli::features::encode(args),
        Command::EvalFeatures(args) => cli::features::eval_features(args),
        Command::Sample(args) => cli::features::sample(args),
        Command::Colorize(args) => cli::colorize::colorize(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aec: error: {}", cli::message(&e));
            ExitCode::from(cli::exit_code(&e))
        }
    }
}
