//! Compose `build:` through the binary on the real engine: `up` builds the
//! image `<project>-<service>` from a context less its `.dockerignore`, a
//! second `up` does not, `up --build` does and replaces the container; a
//! missing context is refused at its line and column and a failing step
//! ends `up` with the step's words, nothing created either way.

mod common;

use std::path::PathBuf;

use common::cli::{Up, run};
use common::{Cleanup, IMAGE, docker, engine, inspect};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh project directory `project` with `compose` as its compose.yaml
/// and `dockerfile` in `app/`; returns the compose file.
fn project(project: &str, compose: &str, dockerfile: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("stevedore-build-{}", std::process::id()))
        .join(project);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("app")).unwrap();
    std::fs::write(dir.join("app/Dockerfile"), dockerfile).unwrap();
    let file = dir.join("compose.yaml");
    std::fs::write(&file, compose).unwrap();
    file
}

/// Removes the images a test made, however it ends.
struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        for image in &self.0 {
            let _ = std::process::Command::new("docker")
                .args(["rmi", "-f", image])
                .output();
        }
    }
}

fn image_id(tag: &str) -> String {
    docker(&["image", "inspect", "-f", "{{.Id}}", tag])
}

fn containers_of(namespace: &str) -> String {
    docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=io.stevedore.namespace={namespace}"),
    ])
}

#[actix::test]
async fn a_built_service_runs_its_image_which_is_rebuilt_only_when_asked() {
    if engine().await.is_none() {
        return;
    }
    let namespace = "t-build-up";
    let tag = "t-build-up-web";
    // Dropped after the containers go: an image in use is not removed.
    let mut images = Images(vec![tag.to_string()]);
    let _cleanup = Cleanup::new(namespace);
    let file = project(
        namespace,
        "services:\n  web:\n    build: ./app\n    stop_grace_period: 1s\n",
        &format!("FROM {IMAGE}\nCOPY . /app\nCMD [\"sleep\", \"600\"]\n"),
    );
    let app = file.parent().unwrap().join("app");
    std::fs::write(app.join("kept.txt"), "first\n").unwrap();
    std::fs::write(app.join("ignored.txt"), "never sent\n").unwrap();
    std::fs::write(app.join(".dockerignore"), "# not sent\nignored.txt\n").unwrap();
    let container = format!("{namespace}--web");

    let mut up = Up::start(&file, &[]);
    up.wait_for(&["built", tag]);
    up.wait_running(&["web"]);
    let listed = docker(&["exec", &container, "ls", "-a", "/app"]);
    assert!(listed.contains("kept.txt"), "{listed}");
    assert!(listed.contains("Dockerfile"), "{listed}");
    assert!(!listed.contains("ignored.txt"), ".dockerignore: {listed}");
    let first = image_id(tag);
    assert!(first.starts_with("sha256:"), "{first}");
    images.0.push(first.clone());
    let first_container = inspect(&container, "{{.Id}}");
    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);

    // Present: not built again, and the running container is kept.
    let mut again = Up::start(&file, &[]);
    again.wait_for(&["control API on"]);
    assert!(
        again.seen.iter().any(|l| l.contains("is present")),
        "{:?}",
        again.seen
    );
    assert!(
        !again.seen.iter().any(|l| l.contains("building")),
        "{:?}",
        again.seen
    );
    assert_eq!(image_id(tag), first);
    again.signal("TERM");
    assert_eq!(again.wait_exit(), 0);
    assert_eq!(inspect(&container, "{{.Id}}"), first_container);

    // --build: built again from the changed file, the container replaced.
    std::fs::write(app.join("kept.txt"), "second\n").unwrap();
    let mut rebuilt = Up::start(&file, &["--build"]);
    rebuilt.wait_for(&["built", tag]);
    // The adopted container ran before the build: its replacement's line.
    rebuilt.mark();
    rebuilt.wait_running(&["web"]);
    let second = image_id(tag);
    assert_ne!(second, first, "a changed context makes another image");
    assert_ne!(
        inspect(&container, "{{.Id}}"),
        first_container,
        "{:#?}",
        rebuilt.seen
    );
    assert_eq!(
        docker(&["exec", &container, "cat", "/app/kept.txt"]),
        "second"
    );
    assert_eq!(inspect(&container, "{{.Image}}"), second);
    rebuilt.signal("TERM");
    assert_eq!(rebuilt.wait_exit(), 0);
}

#[test]
fn a_missing_context_is_refused_at_its_line_and_column_and_nothing_is_created() {
    let file = project(
        "t-build-bad",
        "services:\n  web:\n    image: t-build-bad-web\n    build: ./nope\n",
        "FROM scratch\n",
    );
    let path = file.display().to_string();
    for verb in ["validate", "up"] {
        let output = run(&[verb, "-f", &path]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{verb}: {stderr}");
        assert!(
            stderr.contains("compose.yaml:4:12: unit \"web\": build: the context directory"),
            "{verb}: {stderr}"
        );
        assert!(stderr.contains("nope does not exist"), "{verb}: {stderr}");
    }
    if common::engine_available() {
        assert_eq!(containers_of("t-build-bad"), "", "nothing is created");
    }
}

#[actix::test]
async fn a_failing_step_ends_up_with_the_steps_words_and_creates_nothing() {
    if engine().await.is_none() {
        return;
    }
    let namespace = "t-build-fail";
    let tag = "t-build-fail-web";
    let _images = Images(vec![tag.to_string()]);
    let _cleanup = Cleanup::new(namespace);
    let file = project(
        namespace,
        "services:\n  web:\n    build: app\n",
        &format!("FROM {IMAGE}\nRUN echo about to fail && exit 3\nCMD [\"sleep\", \"600\"]\n"),
    );
    let output = run(&["up", "-f", &file.display().to_string()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("build web: about to fail"), "{stderr}");
    assert!(
        stderr.contains("unit web: could not build image t-build-fail-web")
            && stderr.contains("returned a non-zero code: 3"),
        "{stderr}"
    );
    assert_eq!(containers_of(namespace), "", "no unit is created");
    assert_eq!(image_id(tag), "", "no image is tagged");
    assert_eq!(
        docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("name={namespace}---lease")
        ]),
        "",
        "the lease is released"
    );
}

/// The files of `image` under `/c`, sorted.
fn files_in(image: &str) -> String {
    docker(&["run", "--rm", image, "find", "/c"])
        .lines()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join("\n")
}

#[actix::test]
async fn the_context_sent_leaves_out_what_the_docker_cli_leaves_out() {
    if engine().await.is_none() {
        return;
    }
    let namespace = "t-build-ignore";
    let (ours, theirs) = ("t-build-ignore-ours", "t-build-ignore-cli");
    let _images = Images(vec![ours.to_string(), theirs.to_string()]);
    let _cleanup = Cleanup::new(namespace);
    let file = project(
        namespace,
        &format!(
            "services:\n  web:\n    image: {ours}\n    build: ./app\n    command: [\"true\"]\n"
        ),
        &format!("FROM {IMAGE}\nCOPY . /c\n"),
    );
    let app = file.parent().unwrap().join("app");
    for dir in ["a/b/c", "docs", "logs/deep", "cache", "x/y"] {
        std::fs::create_dir_all(app.join(dir)).unwrap();
    }
    for name in [
        "top.log",
        "keep.log",
        "a/one.log",
        "a/b/two.log",
        "a/b/c/three.txt",
        "docs/keep.md",
        "docs/drop.md",
        "logs/deep/z.log",
        "cache/blob",
        "x/y/file",
        "[br].txt",
        "b.txt",
        "q1.txt",
        "q12.txt",
        "spaced.txt",
        "other.txt",
    ] {
        std::fs::write(app.join(name), name).unwrap();
    }
    std::os::unix::fs::symlink("top.log", app.join("link")).unwrap();
    let ignore = "# comment\n*.log\n!keep.log\n**/two.log\ndocs\n!docs/keep.md\nlogs/**\n/cache\n[ab].txt\nq?.txt\n  spaced.txt  \nx/*/file\nDockerfile\n.dockerignore\n";
    std::fs::write(app.join(".dockerignore"), ignore).unwrap();

    let cli = std::process::Command::new("docker")
        .args(["build", "-q", "-t", theirs])
        .arg(&app)
        .output()
        .expect("the docker CLI runs");
    assert!(cli.status.success(), "{}", text(&cli.stderr));
    let mut up = Up::start(&file, &[]);
    up.wait_for(&["built", ours]);
    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);
    let sent = files_in(ours);
    assert!(
        sent.contains("/c/docs/keep.md") && !sent.contains("drop.md"),
        "{sent}"
    );
    assert_eq!(sent, files_in(theirs));
}
