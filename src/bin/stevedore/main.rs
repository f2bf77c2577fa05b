//! The `stevedore` command: `up` supervises a manifest's units in the
//! foreground and serves their control API; `start`, `stop`, `restart`,
//! `reload` and `events` talk to it; `ps`, `down` and `validate` also work
//! against the engine directly. This file is only the command line.

mod api;
mod args;
mod build;
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
        /// The manifest (TOML), or a compose file (compose.yaml, *.yml…;
        /// without -f, COMPOSE_FILE, else the directory's compose file and
        /// its override when there is no units.toml). Repeat it for compose
        /// files merged in order.
        #[arg(short = 'f', long = "file", default_value = "units.toml")]
        file: Vec<PathBuf>,
        /// A compose profile to enable (repeatable; without it,
        /// COMPOSE_PROFILES, comma-separated; `*` enables every profile).
        #[arg(long = "profile", value_name = "NAME")]
        profile: Vec<String>,
        /// Namespace to use instead of the manifest's (checked as a
        /// manifest's: letters, digits, '_', '.', '-', starting with a letter
        /// or digit, no "--").
        #[arg(
            short = 'n',
            long,
            visible_short_alias = 'p',
            visible_alias = "project-name"
        )]
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
        /// Build the images of compose `build:` keys again before starting
        /// (without it, only images missing from the engine are built).
        #[arg(long)]
        build: bool,
        /// How every line on stderr is printed (unit state changes, notices,
        /// errors, library warnings): timestamped text, or one JSON object
        /// per line with time, level, message and fields such as unit.
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
        /// Serve the control API on this socket instead of the namespace's
        /// (/run/stevedore/<ns>.sock as root, else
        /// $XDG_RUNTIME_DIR/stevedore/<ns>.sock).
        #[arg(long, value_name = "PATH")]
        socket: Option<PathBuf>,
        /// Also serve the API (and the status page) on this TCP address;
        /// every request then needs the bearer token. Never by default.
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<std::net::SocketAddr>,
        /// The bearer token for --listen, read from this file; without it a
        /// token is made and written (0600) beside the socket, as
        /// <socket>.token.
        #[arg(long, value_name = "PATH", requires = "listen")]
        token_file: Option<PathBuf>,
        /// Run in the background (its log to --log-file) and return once
        /// every unit runs; exit 1 naming those that do not in time.
        #[arg(short = 'd', long)]
        detach: bool,
        /// With -d: also wait until units with a health check are healthy.
        #[arg(long, requires = "detach")]
        wait: bool,
        /// With -d: seconds to wait for the units.
        #[arg(
            long,
            value_name = "SECONDS",
            default_value_t = 60,
            requires = "detach"
        )]
        wait_timeout: u64,
        /// With -d: the background up's log (default: beside the socket, as
        /// <socket>.log).
        #[arg(long, value_name = "PATH", requires = "detach")]
        log_file: Option<PathBuf>,
    },
    /// List the namespace's units from the engine, with the live phases of
    /// a running `up` when one answers.
    ///
    /// The table shows the host ports the engine assigned; its columns are
    /// as wide as their contents.
    Ps {
        #[command(flatten)]
        place: Place,
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
    /// Stop (grace period, then kill) and remove every container of the
    /// namespace, then the networks it created; named volumes are kept
    /// unless -v.
    Down {
        #[command(flatten)]
        place: Place,
        /// Take the namespace's lease even if an `up` holds it.
        #[arg(long)]
        take_over: bool,
        /// Remove the named volumes the namespace created too (never an
        /// external one, nor one it did not create).
        #[arg(short = 'v', long)]
        volumes: bool,
    },
    /// Start units of the running `up` (resets their restart history, as
    /// `docker start` does); answers once they run.
    Start {
        #[command(flatten)]
        target: Target,
        /// Units to start.
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Stop units of the running `up` with their grace period and signal; no
    /// restart policy undoes it until `start`.
    Stop {
        #[command(flatten)]
        target: Target,
        /// Units to stop.
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Restart units of the running `up` (stop with their grace period, then
    /// start).
    Restart {
        #[command(flatten)]
        target: Target,
        /// Units to restart.
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Make the running `up` re-read its manifest and apply the difference
    /// (as SIGHUP does); prints what changed, or the manifest's problems.
    Reload {
        #[command(flatten)]
        target: Target,
    },
    /// Print units' container output: through the running `up` when one
    /// answers, else straight from the engine. With several units, each
    /// line starts with its unit's name.
    Logs {
        /// Namespace of the units (not with --file).
        #[arg(
            short = 'n',
            long,
            visible_short_alias = 'p',
            visible_alias = "project-name",
            conflicts_with = "file"
        )]
        namespace: Option<String>,
        /// Read the namespace from this manifest (not with -n; -f is
        /// --follow here, as in docker logs).
        #[arg(long = "file")]
        file: Option<PathBuf>,
        /// The `up`'s control socket, instead of the namespace's.
        #[arg(long, value_name = "PATH")]
        socket: Option<PathBuf>,
        /// Go on printing what the units print.
        #[arg(short = 'f', long)]
        follow: bool,
        /// Only the last N lines of each unit (a number, or all).
        #[arg(long, value_name = "N", default_value = "all")]
        tail: String,
        /// Prefix each line with the engine's time of it.
        #[arg(short = 't', long)]
        timestamps: bool,
        /// Units to show.
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Print the running `up`'s unit events as they happen.
    Events {
        #[command(flatten)]
        target: Target,
        /// One JSON object per event instead of a line of text.
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `stevedore man | man -l -`.
    Man,
    /// Print the stevedore manifest (TOML) that runs the same units as a
    /// compose file (or a manifest), to move over.
    Convert {
        /// The compose file (or manifest); default: COMPOSE_FILE, else the
        /// directory's compose.yaml, compose.yml, docker-compose.yaml or
        /// docker-compose.yml and its override. Repeat it for compose files
        /// merged in order.
        #[arg(short = 'f', long = "file", default_value = "units.toml")]
        file: Vec<PathBuf>,
        /// A compose profile to enable (repeatable; without it,
        /// COMPOSE_PROFILES).
        #[arg(long = "profile", value_name = "NAME")]
        profile: Vec<String>,
    },
    /// Check a manifest or compose file; exit 0 when it is valid, 2 when it
    /// is not.
    Validate {
        /// The manifest (TOML), or a compose file (compose.yaml, *.yml…;
        /// without -f, COMPOSE_FILE, else the directory's compose file and
        /// its override when there is no units.toml). Repeat it for compose
        /// files merged in order.
        #[arg(short = 'f', long = "file", default_value = "units.toml")]
        file: Vec<PathBuf>,
        /// A compose profile to enable (repeatable; without it,
        /// COMPOSE_PROFILES).
        #[arg(long = "profile", value_name = "NAME")]
        profile: Vec<String>,
    },
    /// Run `up` as a system service.
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
}

/// Which namespace a command is about, and the socket of its running `up`.
#[derive(Debug, clap::Args)]
struct Place {
    /// The namespace (a compose project's name; not with -f).
    #[arg(
        short = 'n',
        long,
        visible_short_alias = 'p',
        visible_alias = "project-name",
        conflicts_with = "file"
    )]
    namespace: Option<String>,
    /// Read the namespace from this manifest or compose file (not with -n;
    /// repeatable, as for up).
    #[arg(short = 'f', long = "file")]
    file: Vec<PathBuf>,
    /// A compose profile, as for up (the files are read with it).
    #[arg(long = "profile", value_name = "NAME")]
    profile: Vec<String>,
    /// The running `up`'s control socket, instead of the namespace's.
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
}

impl Place {
    /// The namespace, checked, and the socket path of its `up`.
    fn resolve(self) -> Result<(String, PathBuf), Failure> {
        let files = args::Files::new(self.file, self.profile);
        let namespace = args::namespace_of(self.namespace, &files)?;
        let socket = socket::path_of(self.socket, &namespace);
        Ok((namespace, socket))
    }
}

/// Which running `up` a command talks to.
#[derive(Debug, clap::Args)]
struct Target {
    #[command(flatten)]
    place: Place,
    /// Talk to an `up --listen ADDR:PORT` over TCP instead (with
    /// --token-file).
    #[arg(
        long,
        value_name = "ADDR:PORT",
        requires = "token_file",
        conflicts_with = "socket"
    )]
    api: Option<std::net::SocketAddr>,
    /// The file holding that `up`'s bearer token (its <socket>.token).
    #[arg(long, value_name = "PATH", requires = "api")]
    token_file: Option<PathBuf>,
}

impl Target {
    /// The client of the `up` this names; exit 1 when none answers.
    fn client(self) -> Result<client::Client, Failure> {
        if let (Some(address), Some(file)) = (self.api, &self.token_file) {
            let token = std::fs::read_to_string(file).map_err(|error| {
                Failure::input(format!(
                    "cannot read the token file {}: {error}",
                    file.display()
                ))
            })?;
            return Ok(client::Client::over_tcp(address, token.trim().to_string()));
        }
        let place = self.place;
        let (namespace, path) = match (&place.socket, &place.namespace, place.file.is_empty()) {
            // A socket given outright needs no namespace.
            (Some(socket), None, true) => (String::from("(--socket)"), socket.clone()),
            _ => place.resolve()?,
        };
        client::Client::require(&path, &namespace)
    }
}

#[derive(Debug, Subcommand)]
enum ServiceAction {
    /// Print a systemd unit that runs `up` for the manifest at boot, after
    /// docker.service, with the notify protocol (READY once every unit is
    /// adopted or started) and a watchdog.
    Print {
        /// The manifest (TOML), or a compose file (compose.yaml, *.yml…;
        /// without -f, the directory's compose file when there is no units.toml). the unit names it by its absolute path.
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
        Command::Convert { file, profile } => {
            let project = args::load_project(&args::Files::new(file, profile))?;
            output::stdout(&stevedore::compose::convert::to_toml_with_builds(
                &project.manifest,
                &project.builds,
            ));
            Ok(())
        }
        Command::Validate { file, profile } => {
            let files = args::Files::new(file, profile);
            let project = args::load_project(&files)?;
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
