//! The `stevedore` command: `up` supervises a manifest's units in the
//! foreground; `ps`, `down` and `validate` work against the engine directly.
//! This file is only the command line; everything it does is the library's.

mod down;
mod engine;
mod notify;
mod output;
mod ps;
mod service;
mod up;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Keeps Docker containers running the way a manifest declares them.
#[derive(Debug, Parser)]
#[command(name = "stevedore", version, about, long_about = None)]
struct Cli {
    /// Docker engine to talk to (unix:///var/run/docker.sock, tcp://host:2375);
    /// defaults to DOCKER_HOST, then the local socket.
    #[arg(short = 'H', long, global = true, env = "DOCKER_HOST")]
    host: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Bring the manifest's units up and supervise them until told to stop.
    ///
    /// Adopts what the namespace already has, creates what is missing,
    /// replaces units whose spec changed and leaves unchanged ones alone.
    /// SIGINT/SIGTERM shut down per --on-exit (a second SIGINT stops
    /// waiting); SIGHUP re-reads the manifest and applies the difference.
    Up {
        /// The manifest (TOML).
        #[arg(short = 'f', long = "file", default_value = "units.toml")]
        file: PathBuf,
        /// Namespace to use instead of the manifest's.
        #[arg(short = 'n', long)]
        namespace: Option<String>,
        /// What happens to the containers when `up` is told to stop.
        #[arg(long, value_enum, default_value_t = OnExit::Leave)]
        on_exit: OnExit,
        /// Remove containers of the namespace that the manifest does not declare.
        #[arg(long)]
        remove_orphans: bool,
        /// Take the namespace's lease even if another `up` holds it.
        #[arg(long)]
        take_over: bool,
        /// How unit state changes are printed on stderr.
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
    },
    /// List the namespace's units straight from the engine.
    Ps {
        /// Namespace to list.
        #[arg(short = 'n', long)]
        namespace: Option<String>,
        /// Read the namespace from this manifest.
        #[arg(short = 'f', long = "file")]
        file: Option<PathBuf>,
        /// Print a JSON array sorted by name instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Stop (grace period, then kill) and remove every container of the namespace.
    Down {
        /// Namespace to take down.
        #[arg(short = 'n', long)]
        namespace: Option<String>,
        /// Read the namespace (and the units' grace periods) from this manifest.
        #[arg(short = 'f', long = "file")]
        file: Option<PathBuf>,
        /// Take the namespace's lease even if an `up` holds it.
        #[arg(long)]
        take_over: bool,
    },
    /// Check a manifest; exit 0 when it is valid, 2 when it is not.
    Validate {
        /// The manifest (TOML).
        #[arg(short = 'f', long = "file", default_value = "units.toml")]
        file: PathBuf,
    },
    /// Run `up` as a system service.
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
}

#[derive(Debug, Subcommand)]
enum ServiceAction {
    /// Print a systemd unit that runs `up` for the manifest at boot, after
    /// docker.service, with the notify protocol (READY once every unit is
    /// adopted or started) and a watchdog.
    Print {
        /// The manifest (TOML); the unit names it by its absolute path.
        #[arg(short = 'f', long = "file", default_value = "units.toml")]
        file: PathBuf,
        /// What `systemctl stop` does with the containers.
        #[arg(long, value_enum, default_value_t = OnExit::Leave)]
        on_exit: OnExit,
    },
}

/// What `up` does with the containers when it is told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnExit {
    /// Leave them running; the next `up` adopts them.
    Leave,
    /// Stop every unit with its grace period.
    Stop,
}

/// How `up` prints unit state changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One human line per change.
    Text,
    /// One JSON object per line.
    Json,
}

/// A failure with its exit code: 2 for bad input, 1 for everything else.
pub struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// Bad usage or an invalid manifest (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }

    /// The engine or another runtime failure (exit 1).
    pub fn runtime(message: impl std::fmt::Display) -> Self {
        Failure {
            code: 1,
            message: message.to_string(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The library reports pull progress at info and trouble at warn; unit
    // state changes are printed by `up` itself. STEVEDORE_LOG=debug shows more.
    let level = match std::env::var("STEVEDORE_LOG").as_deref() {
        Ok("debug") => tracing::Level::DEBUG,
        Ok("trace") => tracing::Level::TRACE,
        Ok("warn") => tracing::Level::WARN,
        _ => tracing::Level::INFO,
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false)
        .without_time()
        .init();
    let system = actix::System::new();
    let result = system.block_on(run(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("stevedore: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let host = cli.host;
    match cli.command {
        Command::Validate { file } => {
            let manifest = output::load(&file)?;
            println!(
                "{}: valid, namespace {}, {} unit(s)",
                file.display(),
                manifest.namespace,
                manifest.units.len()
            );
            Ok(())
        }
        Command::Service {
            action: ServiceAction::Print { file, on_exit },
        } => service::print(&file, on_exit),
        Command::Ps {
            namespace,
            file,
            json,
        } => {
            let namespace = output::namespace_of(namespace, file.as_deref())?;
            ps::run(host.as_deref(), &namespace, json).await
        }
        Command::Down {
            namespace,
            file,
            take_over,
        } => {
            let namespace = output::namespace_of(namespace, file.as_deref())?;
            down::run(host.as_deref(), &namespace, take_over).await
        }
        Command::Up {
            file,
            namespace,
            on_exit,
            remove_orphans,
            take_over,
            log_format,
        } => {
            let options = up::Options {
                file,
                namespace,
                on_exit,
                remove_orphans,
                take_over,
                log_format,
            };
            up::run(host.as_deref(), options).await
        }
    }
}
