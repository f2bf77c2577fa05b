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
        let mut child = Command::new(binary())
            .arg("up")
            .arg("-f")
            .arg(file)
            .args(extra)
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

    /// Waits for a `running` line of each unit.
    pub fn wait_running(&mut self, units: &[&str]) {
        for unit in units {
            self.wait_for(&[&format!(" {unit} "), "running"]);
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
