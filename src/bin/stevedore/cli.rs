//! The command line as clap reads it: every command, flag and help text
//! (the completions and the man page are made from the same definitions).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::{Failure, args, client, socket};

/// Keeps Docker containers running the way a manifest declares them.
#[derive(Debug, Parser)]
#[command(name = "stevedore", version, about, long_about = None)]
#[command(after_help = "Environment:
  DOCKER_HOST    the engine, when -H is not given
  STEVEDORE_LOG  which library log lines to print, as env-filter directives
                 (info, debug, stevedore=debug,bollard=warn); default info
  RUST_LOG       the same, when STEVEDORE_LOG is unset
  NO_COLOR       any non-empty value: no colours (colours only on a terminal)")]
pub struct Cli {
    /// Docker engine to talk to: unix:///path, tcp://host:port or
    /// http://host:port (ssh:// and TLS are not supported); defaults to
    /// DOCKER_HOST, then unix:///var/run/docker.sock.
    #[arg(short = 'H', long, global = true, env = "DOCKER_HOST")]
    pub host: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
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
        #[command(flatten)]
        source: Source,
    },
    /// Check a manifest or compose file; exit 0 when it is valid, 2 when it
    /// is not.
    Validate {
        #[command(flatten)]
        source: Source,
    },
    /// Run `up` as a system service.
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
}

/// The files a command reads, as `docker compose config` takes them.
#[derive(Debug, clap::Args)]
pub struct Source {
    /// The manifest (TOML), or a compose file (compose.yaml, *.yml…;
    /// without -f, COMPOSE_FILE, else the directory's compose file and its
    /// override when there is no units.toml). Repeat it for compose files
    /// merged in order.
    #[arg(short = 'f', long = "file", default_value = "units.toml")]
    pub file: Vec<PathBuf>,
    /// A compose profile to enable (repeatable; without it,
    /// COMPOSE_PROFILES).
    #[arg(long = "profile", value_name = "NAME")]
    pub profile: Vec<String>,
    /// The project (namespace) name, over the file's and COMPOSE_PROJECT_NAME;
    /// a compose project's networks, volumes and built images are named after it.
    #[arg(
        short = 'p',
        long = "project-name",
        visible_short_alias = 'n',
        visible_alias = "namespace"
    )]
    pub project: Option<String>,
}

impl Source {
    /// The project as read, warnings on stderr for a person.
    pub fn load(self) -> Result<(args::Files, stevedore::compose::Compose), Failure> {
        if let Some(project) = &self.project {
            args::check_namespace(project)?;
        }
        let files = args::Files::new(self.file, self.profile);
        let project = args::load_project_with(&files, self.project.as_deref(), |warning| {
            eprintln!("stevedore: warning: {warning}")
        })?;
        Ok((files, project))
    }
}

/// Which namespace a command is about, and the socket of its running `up`.
#[derive(Debug, clap::Args)]
pub struct Place {
    /// The namespace (a compose project's name; not with -f).
    #[arg(
        short = 'n',
        long,
        visible_short_alias = 'p',
        visible_alias = "project-name",
        conflicts_with = "file"
    )]
    pub namespace: Option<String>,
    /// Read the namespace from this manifest or compose file (not with -n;
    /// repeatable, as for up).
    #[arg(short = 'f', long = "file")]
    pub file: Vec<PathBuf>,
    /// A compose profile, as for up (the files are read with it).
    #[arg(long = "profile", value_name = "NAME")]
    pub profile: Vec<String>,
    /// The running `up`'s control socket, instead of the namespace's.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

impl Place {
    /// The namespace, checked, and the socket path of its `up`.
    pub fn resolve(self) -> Result<(String, PathBuf), Failure> {
        let files = args::Files::new(self.file, self.profile);
        let namespace = args::namespace_of(self.namespace, &files)?;
        let socket = socket::path_of(self.socket, &namespace);
        Ok((namespace, socket))
    }
}

/// Which running `up` a command talks to.
#[derive(Debug, clap::Args)]
pub struct Target {
    #[command(flatten)]
    pub place: Place,
    /// Talk to an `up --listen ADDR:PORT` over TCP instead (with
    /// --token-file).
    #[arg(
        long,
        value_name = "ADDR:PORT",
        requires = "token_file",
        conflicts_with = "socket"
    )]
    pub api: Option<std::net::SocketAddr>,
    /// The file holding that `up`'s bearer token (its <socket>.token).
    #[arg(long, value_name = "PATH", requires = "api")]
    pub token_file: Option<PathBuf>,
}

impl Target {
    /// The client of the `up` this names; exit 1 when none answers.
    pub fn client(self) -> Result<client::Client, Failure> {
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
pub enum ServiceAction {
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
