//! Running the built `stevedore` binary in tests and reading its stderr as
//! events arrive.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

/// The binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_stevedore")
}

/// Runs `stevedore ARGS` to completion.
pub fn run(args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Writes `text` as a manifest in a fresh temporary directory.
pub fn manifest(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stevedore-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("units.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A running `stevedore up`, its stderr lines delivered as they come.
pub struct Up {
    pub child: Child,
    lines: Receiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
    /// `wait_for` looks at lines from here on (see [`Up::mark`]).
    from: usize,
}

impl Up {
    /// Starts `stevedore up -f FILE EXTRA…`.
    pub fn start(file: &Path, extra: &[&str]) -> Up {
        Up::start_env(file, extra, &[])
    }

    /// The lines read since the last [`Up::mark`].
    pub fn since_mark(&self) -> &[String] {
        &self.seen[self.from..]
    }

    /// From now on, `wait_for` only looks at lines printed after this call.
    pub fn mark(&mut self) {
        self.from = self.seen.len();
    }

    /// Waits (bounded) for a line since the last [`Up::mark`] (already read
    /// or new) that satisfies `matches`; returns its index in `seen`.
    fn wait_line(&mut self, matches: impl Fn(&str) -> bool, wanted: &str) -> usize {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut next = self.from;
        loop {
            while next < self.seen.len() {
                if matches(&self.seen[next]) {
                    return next;
                }
                next += 1;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!(
                    "up never printed {wanted}; it printed:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Waits for a stderr line containing every one of `parts`.
    pub fn wait_for(&mut self, parts: &[&str]) -> String {
        let index = self.wait_line(
            |line| parts.iter().all(|part| line.contains(part)),
            &format!("a line with {parts:?}"),
        );
        self.seen[index].clone()
    }

    /// Waits for the next line containing any one of `options`, and moves
    /// past it, so that successive calls count successive lines.
    pub fn wait_for_any(&mut self, options: &[&str]) -> String {
        let index = self.wait_line(
            |line| options.iter().any(|o| line.contains(o)),
            &format!("any of {options:?}"),
        );
        self.from = index + 1;
        self.seen[index].clone()
    }

    /// Waits for a `running` line of each unit (its state, not a line
    /// that says another unit is still running).
    pub fn wait_running(&mut self, units: &[&str]) {
        for unit in units {
            let name = format!(" {unit} ");
            self.wait_line(
                |line| {
                    line.find(&name).is_some_and(|at| {
                        line[at + name.len()..].trim_start().starts_with("running")
                    })
                },
                &format!("{unit} running"),
            );
        }
    }

    /// Sends a signal to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-s", signal, &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self) -> i32 {
        // Drain what is left so the pipe never blocks the process.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(60)) {
            self.seen.push(line);
        }
        self.child.wait().unwrap().code().unwrap_or(-1)
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `stevedore ps -n NAMESPACE --json`, parsed.
pub fn ps(namespace: &str) -> Vec<serde_json::Value> {
    let output = run(&["ps", "-n", namespace, "--json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("ps --json prints JSON")
}

/// `ps --json` once `settled` holds for its rows. The phase record trails
/// the unit events by up to a second (the recorder's write delay) and another
/// process's write has no event we can await, so this reads again, a
/// bounded number of times.
pub fn ps_when(
    namespace: &str,
    settled: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    for _ in 0..100 {
        let rows = ps(namespace);
        if settled(&rows) {
            return rows;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("ps never settled: {:?}", ps(namespace));
}

/// Runs `stevedore ARGS` to completion with `env` added to its environment
/// (an empty value removes the variable).
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(binary());
    command.args(args);
    with_env(&mut command, env);
    command.output().expect("the binary runs")
}

impl Up {
    /// Starts `stevedore up -f FILE EXTRA…` with `env` added to its
    /// environment (an empty value removes the variable).
    pub fn start_env(file: &Path, extra: &[&str], env: &[(&str, &str)]) -> Up {
        let mut command = Command::new(binary());
        command.arg("up").arg("-f").arg(file).args(extra);
        with_env(&mut command, env);
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("up starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Up {
            child,
            lines,
            seen: Vec::new(),
            from: 0,
        }
    }
}

/// Whether `text` is an RFC 3339 time with a UTC offset:
/// `2026-12-01T10:44:44Z`, `2026-12-01T10:44:44.123Z`, `…+02:00`.
pub fn is_rfc3339(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes.len() >= range.end && bytes[range].iter().all(u8::is_ascii_digit)
    };
    let shape = digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10)
        && bytes.get(10) == Some(&b'T')
        && digits(11..13)
        && bytes.get(13) == Some(&b':')
        && digits(14..16)
        && bytes.get(16) == Some(&b':')
        && digits(17..19);
    if !shape {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let count = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if count == 0 {
            return false;
        }
        rest = &fraction[count..];
    }
    match rest.as_bytes() {
        [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}

/// Runs `command` (a shell command line) on a pseudo-terminal with
/// `script(1)`, and returns what it printed there; `None` (with a message)
/// where `script` is missing.
pub fn on_a_terminal(command: &str, env: &[(&str, &str)]) -> Option<String> {
    let mut script = Command::new("script");
    script.args(["-q", "-e", "-c", command, "/dev/null"]);
    for (name, value) in env {
        if value.is_empty() {
            script.env_remove(name);
        } else {
            script.env(name, value);
        }
    }
    match script.stdin(Stdio::null()).output() {
        Ok(output) => Some(String::from_utf8_lossy(&output.stdout).into_owned()),
        Err(error) => {
            eprintln!("SKIPPED: script(1) does not run ({error}); install util-linux");
            None
        }
    }
}

/// Whether `program` is on the PATH.
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Whether Debian's `docker-compose` (the differential tests' reference)
/// is installed: CI must have it (scripts/tools-up.sh); elsewhere a test
/// without it says it skips.
pub fn docker_compose() -> bool {
    if have("docker-compose") {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI needs docker-compose (scripts/tools-up.sh)"
    );
    eprintln!("SKIPPED: docker-compose is not installed");
    false
}

/// Runs `program ARGS` with `input` on its standard input.
pub fn pipe(program: &str, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{program} runs: {error}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Adds `env` to `command`'s environment (an empty value removes the
/// variable).
fn with_env(command: &mut Command, env: &[(&str, &str)]) {
    for (name, value) in env {
        if value.is_empty() {
            command.env_remove(name);
        } else {
            command.env(name, value);
        }
    }
}
