//! A compose service's less common keys reach the real engine's container
//! as compose would set them; a platform the image is not for is refused
//! before anything is created.

mod common;

use std::path::PathBuf;

use common::cli::{Up, run};
use common::{Cleanup, IMAGE, docker, engine, inspect};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn compose_file(project: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("stevedore-options-{}", std::process::id()))
        .join(project);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("compose.yaml");
    std::fs::write(&path, body).unwrap();
    path
}

#[actix::test]
async fn a_services_options_reach_its_container_on_the_engine() {
    if engine().await.is_none() {
        return;
    }
    let project = "t-options";
    let _cleanup = Cleanup::new(project);
    let arch = docker(&["image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", IMAGE]);
    let file = compose_file(
        project,
        &format!(
            r#"
services:
  app:
    image: {IMAGE}
    entrypoint: ["sh", "-c"]
    command: ["echo started; exec sleep 600"]
    user: "1000:1000"
    working_dir: /tmp
    hostname: app1
    init: true
    read_only: true
    tmpfs: [/run]
    cap_drop: [ALL]
    cap_add: [CHOWN]
    security_opt: ["no-new-privileges:true"]
    ulimits: {{ nofile: {{ soft: 1024, hard: 2048 }} }}
    extra_hosts: ["db.internal:10.0.0.5"]
    dns: [9.9.9.9]
    shm_size: 32m
    expose: ["8080"]
    logging: {{ driver: json-file, options: {{ max-size: 1m }} }}
    cpus: 0.5
    pids_limit: 64
    platform: {arch}
    container_name: my-app
    ipc: shareable
    stop_grace_period: 1s
  helper:
    image: {IMAGE}
    command: ["sleep", "600"]
    ipc: "service:app"
    pid: "service:app"
    links: ["app:main"]
    cpuset: "0"
    cpu_quota: 50000
    cpu_period: 100000
    oom_score_adj: 100
    stop_grace_period: 1s
"#
        ),
    );
    let mut up = Up::start(&file, &[]);
    up.wait_running(&["app"]);
    let container = "t-options--app";
    let checks = [
        ("{{json .Config.Entrypoint}}", "[\"sh\",\"-c\"]"),
        ("{{.Config.User}}", "1000:1000"),
        ("{{.Config.WorkingDir}}", "/tmp"),
        ("{{.Config.Hostname}}", "app1"),
        ("{{.HostConfig.Init}}", "true"),
        ("{{.HostConfig.ReadonlyRootfs}}", "true"),
        ("{{json .HostConfig.CapDrop}}", "[\"ALL\"]"),
        ("{{json .HostConfig.CapAdd}}", "[\"CHOWN\"]"),
        (
            "{{json .HostConfig.SecurityOpt}}",
            "[\"no-new-privileges:true\"]",
        ),
        (
            "{{json .HostConfig.ExtraHosts}}",
            "[\"db.internal:10.0.0.5\"]",
        ),
        ("{{json .HostConfig.Dns}}", "[\"9.9.9.9\"]"),
        ("{{.HostConfig.ShmSize}}", "33554432"),
        ("{{.HostConfig.LogConfig.Type}}", "json-file"),
        ("{{index .HostConfig.LogConfig.Config \"max-size\"}}", "1m"),
        ("{{.HostConfig.NanoCpus}}", "500000000"),
        ("{{.HostConfig.PidsLimit}}", "64"),
        ("{{json .HostConfig.Tmpfs}}", "{\"/run\":\"\"}"),
        (
            "{{range $p, $v := .Config.ExposedPorts}}{{$p}}{{end}}",
            "8080/tcp",
        ),
    ];
    for (format, expected) in checks {
        assert_eq!(inspect(container, format), expected, "{format}");
    }
    let ulimits = inspect(container, "{{json .HostConfig.Ulimits}}");
    assert!(
        ulimits.contains("\"Soft\":1024") && ulimits.contains("\"Hard\":2048"),
        "{ulimits}"
    );
    let aliases = inspect(
        container,
        "{{json (index .NetworkSettings.Networks \"t-options_default\").Aliases}}",
    );
    assert!(
        aliases.contains("\"my-app\"") && aliases.contains("\"app\""),
        "{aliases}"
    );
    up.wait_running(&["helper"]);
    let helper = |format: &str| inspect("t-options--helper", format);
    // The engine keeps the container's id, not its name.
    let app = format!("container:{}", inspect(container, "{{.Id}}"));
    assert_eq!(helper("{{.HostConfig.IpcMode}}"), app);
    assert_eq!(helper("{{.HostConfig.PidMode}}"), app);
    assert_eq!(helper("{{.HostConfig.CpusetCpus}}"), "0");
    assert_eq!(
        helper("{{.HostConfig.CpuQuota}} {{.HostConfig.CpuPeriod}}"),
        "50000 100000"
    );
    assert_eq!(helper("{{.HostConfig.OomScoreAdj}}"), "100");
    let links = helper("{{json (index .NetworkSettings.Networks \"t-options_default\").Links}}");
    assert!(links.contains("t-options--app:main"), "{links}");
    // The same processes: helper sees app's init as its PID 1.
    let pid1 = docker(&["exec", "t-options--helper", "cat", "/proc/1/cmdline"]);
    assert!(pid1.contains("init"), "{pid1}");
    // The command runs as the user, in the directory, under init.
    let whoami = docker(&[
        "exec",
        container,
        "sh",
        "-c",
        "id -u; pwd; cat /proc/1/cmdline | tr '\\0' ' '",
    ]);
    let lines: Vec<&str> = whoami.lines().collect();
    assert_eq!(lines[0], "1000");
    assert_eq!(lines[1], "/tmp");
    assert!(
        lines[2].contains("init"),
        "PID 1 is the engine's init: {whoami}"
    );
    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);
    let down = run(&["down", "-p", project]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down.stderr));
}

#[actix::test]
async fn a_platform_the_image_is_not_for_is_refused_before_anything_is_created() {
    if engine().await.is_none() {
        return;
    }
    let project = "t-platform";
    let _cleanup = Cleanup::new(project);
    let file = compose_file(
        project,
        &format!("services:\n  app:\n    image: {IMAGE}\n    platform: linux/s390x\n"),
    );
    let output = run(&["up", "-f", &file.display().to_string()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("compose.yaml:4:5: unit \"app\": platform: wants linux/s390x"),
        "{stderr}"
    );
    let filter = format!("label=io.stevedore.namespace={project}");
    assert_eq!(docker(&["ps", "-aq", "--filter", &filter]), "");
    assert_eq!(
        docker(&["network", "ls", "-q", "--filter", &filter]),
        "",
        "nor a network"
    );
}

#[actix::test]
async fn a_never_pull_policy_fails_a_missing_image_without_asking_a_registry() {
    if engine().await.is_none() {
        return;
    }
    let project = "t-never";
    let _cleanup = Cleanup::new(project);
    let file = compose_file(
        project,
        "services:\n  app:\n    image: stevedore-absent-image:never\n    pull_policy: never\n",
    );
    let mut up = Up::start(&file, &[]);
    let line = up.wait_for(&[" app ", "failed"]);
    assert!(line.contains("pull_policy is never"), "{line}");
    assert!(
        !up.seen.iter().any(|l| l.contains("pulling")),
        "{:?}",
        up.seen
    );
    up.signal("TERM");
    up.wait_exit();
}
