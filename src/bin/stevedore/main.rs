//! The `stevedore` command: `up` supervises a manifest's units in the
//! foreground and serves their control API; `start`, `stop`, `restart`,
//! `reload` and `events` talk to it; `ps`, `down` and `validate` also work
//! against the engine directly. This file is only the command line.

mod api;
mod args;
mod build;
mod cli;
mod client;
mod detach;
mod down;
mod engine;
mod log;
mod notify;
mod output;
mod ps;
mod ps_print;
mod service;
mod socket;
mod unit_logs;
mod up;
mod verbs;

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command, ServiceAction};
pub use crate::cli::{LogFormat, OnExit};
use crate::engine::Address;
use crate::output::failure_line;

/// A failure with its exit code: 2 for bad input, 1 for everything else.
#[derive(Debug)]
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

    /// Its one line.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The problems it lists.
    pub fn problems(&self) -> &[String] {
        &self.problems
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
        Command::Convert { source } => {
            let (_, project) = source.load()?;
            output::stdout(&stevedore::compose::convert::to_toml_with_builds(
                &project.manifest,
                &project.builds,
            ));
            Ok(())
        }
        Command::Validate { source } => {
            let (files, project) = source.load()?;
            let manifest = &project.manifest;
            // `-f a.yaml -f b.yaml` is valid as a whole.
            let name = match files.resolve()?.as_slice() {
                [_] | [] => manifest.file.clone(),
                several => args::label(several),
            };
            let builds = match project.builds.len() {
                0 => String::new(),
                n => format!(", {n} image(s) to build"),
            };
            output::stdout(&format!(
                "{}: valid, namespace {}, {} unit(s){builds}\n",
                name,
                manifest.namespace,
                manifest.units.len()
            ));
            Ok(())
        }
        Command::Service {
            action: ServiceAction::Print { file, on_exit },
        } => service::print(&file, on_exit),
        Command::Ps {
            place,
            json,
            quiet,
            format,
        } => {
            let address = address()?;
            let shape = ps_print::Shape::of(json, quiet, format.as_deref())?;
            let (namespace, socket) = place.resolve()?;
            ps::run(&address, &namespace, &socket, &shape).await
        }
        Command::Down {
            place,
            take_over,
            volumes,
        } => {
            let address = address()?;
            let (namespace, socket) = place.resolve()?;
            let options = down::Options { take_over, volumes };
            down::run(&address, &namespace, &socket, options).await
        }
        Command::Start { target, units } => verbs::act(&target.client()?, "start", &units).await,
        Command::Stop { target, units } => verbs::act(&target.client()?, "stop", &units).await,
        Command::Restart { target, units } => {
            verbs::act(&target.client()?, "restart", &units).await
        }
        Command::Reload { target } => verbs::reload(&target.client()?).await,
        Command::Logs {
            namespace,
            file,
            socket,
            follow,
            tail,
            timestamps,
            units,
        } => {
            let address = address()?;
            let tail = match tail.as_str() {
                "all" => None,
                n => Some(n.parse::<u64>().map_err(|_| {
                    Failure::input(format!(
                        "--tail must be a number of lines or all, not {n:?}"
                    ))
                })?),
            };
            let files = args::Files::new(file.into_iter().collect(), Vec::new());
            let namespace = args::namespace_of(namespace, &files)?;
            let socket = socket::path_of(socket, &namespace);
            let options = stevedore::engine::LogOptions {
                tail,
                follow,
                timestamps,
            };
            unit_logs::run(&address, &namespace, &socket, &units, options).await
        }
        Command::Events { target, json } => {
            let format = if json {
                LogFormat::Json
            } else {
                LogFormat::Text
            };
            verbs::events(&target.client()?, format).await
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "stevedore", &mut script);
            output::stdout(&String::from_utf8_lossy(&script));
            Ok(())
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map_err(Failure::runtime)?;
            output::stdout(&String::from_utf8_lossy(&page));
            Ok(())
        }
        Command::Up {
            file,
            profile,
            namespace,
            on_exit,
            remove_orphans,
            take_over,
            build,
            log_format: _,
            socket,
            listen,
            token_file,
            detach,
            wait,
            wait_timeout,
            log_file,
        } => {
            let address = address()?;
            if let Some(namespace) = &namespace {
                args::check_namespace(namespace)?;
            }
            let files = args::Files::new(file, profile);
            if detach {
                // Checked here, so that a bad manifest is this command's
                // error, not a line in the background's log.
                let manifest = args::load(&files)?;
                let namespace = namespace.unwrap_or(manifest.namespace);
                let socket = socket::path_of(socket, &namespace);
                let options = detach::Detach {
                    healthy: wait,
                    timeout: std::time::Duration::from_secs(wait_timeout),
                    log_file,
                };
                return detach::run(options, &socket, &namespace).await;
            }
            let options = up::Options {
                files,
                namespace,
                on_exit,
                remove_orphans,
                take_over,
                build,
                socket,
                listen,
                token_file,
            };
            up::run(&address, options).await
        }
    }
}
