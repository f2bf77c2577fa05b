//! The `stevedore` command: `up` supervises a manifest's units in the
//! foreground; `ps`, `down` and `validate` work against the engine directly.
//! This file is only the command line; everything it does is the library's.

mod args;
mod down;
mod engine;
mod log;
mod notify;
mod output;
mod ps;
mod ps_print;
mod service;
mod up;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::engine::Address;
use crate::output::failure_line;

/// Keeps Docker containers running the way a manifest declares them.
#[derive(Debug, Parser)]
#[command(name = "stevedore", version, about, long_about = None)]
#[command(after_help = "Environment:
  DOCKER_HOST    the engine, when -H is not given
  STEVEDORE_LOG  which library log lines to print, as env-filter directives
                 (info, debug, stevedore=debug,bollard=warn); default info
  RUST_LOG       the same, when STEVEDORE_LOG is unset
  NO_COLOR       any non-empty value: no colours (colours only on a terminal)")]
struct Cli {
    /// Docker engine to talk to: unix:///path, tcp://host:port or
    /// http://host:port (ssh:// and TLS are not supported); defaults to
    /// DOCKER_HOST, then unix:///var/run/docker.sock.
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
    /// Every line on stderr is a log line: its time (RFC 3339, UTC), its
    /// level, its message; or one JSON object with --log-format json.
    Up {
        /// The manifest (TOML).
        #[arg(short = 'f', long = "file", default_value = "units.toml")]
        file: PathBuf,
        /// Namespace to use instead of the manifest's (checked as a
        /// manifest's: letters, digits, '_', '.', '-', starting with a letter
        /// or digit, no "--").
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
        /// How every line on stderr is printed (unit state changes, notices,
        /// errors, library warnings): timestamped text, or one JSON object
        /// per line with time, level, message and fields such as unit.
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
    },
    /// List the namespace's units straight from the engine.
    ///
    /// The table shows the host ports the engine assigned; its columns are
    /// as wide as their contents.
    Ps {
        /// Namespace to list (not with -f).
        #[arg(short = 'n', long, conflicts_with = "file")]
        namespace: Option<String>,
        /// Read the namespace from this manifest (not with -n).
        #[arg(short = 'f', long = "file")]
        file: Option<PathBuf>,
        /// Print a JSON array sorted by name instead of a table.
        #[arg(long, conflicts_with_all = ["quiet", "format"])]
        json: bool,
        /// Print only the units' names, one per line.
        #[arg(short = 'q', long, conflicts_with = "format")]
        quiet: bool,
        /// Print each unit through a template over the keys of --json, as
        /// docker ps does: '{{.name}}\t{{.status}}' (\t and \n are a tab
        /// and a newline; an unknown key is an error listing the keys).
        #[arg(long, value_name = "TEMPLATE")]
        format: Option<String>,
    },
    /// Stop (grace period, then kill) and remove every container of the namespace.
    Down {
        /// Namespace to take down (not with -f).
        #[arg(short = 'n', long, conflicts_with = "file")]
        namespace: Option<String>,
        /// Read the namespace from this manifest (not with -n).
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
    /// One line (the first, when it lists problems).
    message: String,
    /// The problems it lists, one line each (a manifest's).
    problems: Vec<String>,
}

impl Failure {
    /// Bad usage or an invalid manifest (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    /// The engine or another runtime failure (exit 1).
    pub fn runtime(message: impl std::fmt::Display) -> Self {
        Failure {
            code: 1,
            message: message.to_string(),
            problems: Vec::new(),
        }
    }

    /// The same failure, listing `problems` after its message.
    pub fn with_problems(mut self, problems: Vec<String>) -> Self {
        self.problems = problems;
        self
    }

    /// The message and its problems, a line each.
    pub fn text(&self) -> String {
        let mut text = self.message.clone();
        for problem in &self.problems {
            text.push('\n');
            text.push_str(problem);
        }
        text
    }
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    // Told apart for the message that refuses a bad address.
    let host_from_env = matches.value_source("host") == Some(ValueSource::EnvVariable);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    // `up` is a service: each of its lines is a log line (timestamped, or
    // JSON). The other commands print for a person at a prompt.
    let (is_up, format) = match &cli.command {
        Command::Up { log_format, .. } => (true, *log_format),
        _ => (false, LogFormat::Text),
    };
    let result = match log::init(format) {
        Ok(()) => actix::System::new().block_on(run(cli, host_from_env)),
        Err(failure) => Err(failure),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if is_up {
                failure_line(&failure).emit();
            } else {
                eprintln!("stevedore: {}", failure.text());
            }
            ExitCode::from(failure.code)
        }
    }
}

async fn run(cli: Cli, host_from_env: bool) -> Result<(), Failure> {
    // Every value is checked before the engine is contacted.
    let address = || Address::parse(cli.host.as_deref(), host_from_env);
    match cli.command {
        Command::Validate { file } => {
            let manifest = args::load(&file)?;
            output::stdout(&format!(
                "{}: valid, namespace {}, {} unit(s)\n",
                file.display(),
                manifest.namespace,
                manifest.units.len()
            ));
            Ok(())
        }
        Command::Service {
            action: ServiceAction::Print { file, on_exit },
        } => service::print(&file, on_exit),
        Command::Ps {
            namespace,
            file,
            json,
            quiet,
            format,
        } => {
            let address = address()?;
            let shape = ps_print::Shape::of(json, quiet, format.as_deref())?;
            let namespace = args::namespace_of(namespace, file.as_deref())?;
            ps::run(&address, &namespace, &shape).await
        }
        Command::Down {
            namespace,
            file,
            take_over,
        } => {
            let address = address()?;
            let namespace = args::namespace_of(namespace, file.as_deref())?;
            down::run(&address, &namespace, take_over).await
        }
        Command::Up {
            file,
            namespace,
            on_exit,
            remove_orphans,
            take_over,
            log_format: _,
        } => {
            let address = address()?;
            if let Some(namespace) = &namespace {
                args::check_namespace(namespace)?;
            }
            let options = up::Options {
                file,
                namespace,
                on_exit,
                remove_orphans,
                take_over,
            };
            up::run(&address, options).await
        }
    }
}
