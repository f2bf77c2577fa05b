//! The unit model against the real Docker engine: what add creates, what list
//! reports, ports, env, volumes, limits, names, namespaces and errors.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{IMAGE, docker, event_where, free_port, inspect, supervisor};
use stevedore::engine::EngineError;
use stevedore::{UnitError, UnitSpec, UnitState};

fn sleeper(name: &str) -> UnitSpec {
    UnitSpec::new(name, IMAGE)
        .command(["sleep", "600"])
        .stop_timeout(Duration::from_secs(1))
}

#[actix::test]
async fn add_starts_a_running_container_of_the_image_asked_for_named_after_its_namespace() {
    let Some((sup, _cleanup)) = supervisor("t-add").await else {
        return;
    };
    sup.add(sleeper("web")).await.unwrap();
    assert_eq!(
        inspect("t-add--web", "{{.State.Running}} {{.Config.Image}}"),
        format!("true {IMAGE}")
    );
    assert_eq!(
        inspect(
            "t-add--web",
            "{{index .Config.Labels \"io.stevedore.namespace\"}}"
        ),
        "t-add"
    );
    let listed = sup.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].is_active());
    assert_eq!(listed[0].container.as_ref().unwrap().image, IMAGE);
    assert_eq!(
        listed[0].container.as_ref().unwrap().command,
        Some(vec!["sleep".into(), "600".into()])
    );
}

#[actix::test]
async fn a_published_port_answers_http_from_busybox_httpd_on_the_host() {
    let Some((sup, _cleanup)) = supervisor("t-port").await else {
        return;
    };
    let port = free_port();
    let spec = UnitSpec::new("web", IMAGE)
        .command(["httpd", "-f", "-p", "8080", "-h", "/www"])
        .port(format!("127.0.0.1:{port}:8080").parse().unwrap());
    sup.add(spec).await.unwrap();
    // httpd binds a moment after the container starts; there is no event for
    // "listening", so the request is retried a bounded number of times.
    let mut body = String::new();
    for _ in 0..100 {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.write_all(b"GET /index.html HTTP/1.0\r\n\r\n");
            body.clear();
            let _ = stream.read_to_string(&mut body);
            if body.contains("hello from stevedore") {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(body.contains("hello from stevedore"), "got {body:?}");
    let ports = &sup.list().await.unwrap()[0]
        .container
        .clone()
        .unwrap()
        .ports;
    assert_eq!(ports.len(), 1);
    assert_eq!((ports[0].internal, ports[0].external), (8080, port));
}

#[actix::test]
async fn env_is_visible_inside_and_only_the_units_env_is_listed() {
    let Some((sup, _cleanup)) = supervisor("t-env").await else {
        return;
    };
    sup.add(sleeper("env").env("GREETING", "hello"))
        .await
        .unwrap();
    let inside = docker(&["exec", "t-env--env", "env"]);
    assert!(inside.contains("GREETING=hello"), "{inside}");
    assert!(
        inside.contains("IMAGE_ONLY=from-image"),
        "the image's env is there too: {inside}"
    );
    let listed = sup.list().await.unwrap()[0].container.clone().unwrap();
    assert_eq!(
        listed.env.into_iter().collect::<Vec<_>>(),
        [("GREETING".to_string(), "hello".to_string())]
    );
}

#[actix::test]
async fn a_volume_receives_a_file_written_by_a_custom_command() {
    let Some((sup, _cleanup)) = supervisor("t-vol").await else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("stevedore-t-vol-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut events = sup.events().await;
    let spec = UnitSpec::new("writer", IMAGE)
        .command(["sh", "-c", "echo written-inside > /data/file"])
        .volume(format!("{}:/data", dir.display()).parse().unwrap());
    sup.add(spec).await.unwrap();
    let exited = event_where(&mut events, "writer", |e| e.state == UnitState::Exited).await;
    assert_eq!(exited.exit_code, Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.join("file")).unwrap().trim(),
        "written-inside"
    );
    let listed = sup.list().await.unwrap()[0].container.clone().unwrap();
    assert_eq!(listed.volumes[0].source, dir);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[actix::test]
async fn memory_and_cpu_shares_appear_in_inspect_and_are_zero_when_unset() {
    let Some((sup, _cleanup)) = supervisor("t-limits").await else {
        return;
    };
    sup.add(sleeper("limited").memory(64 << 20).cpu_shares(512))
        .await
        .unwrap();
    sup.add(sleeper("plain")).await.unwrap();
    assert_eq!(
        inspect(
            "t-limits--limited",
            "{{.HostConfig.Memory}} {{.HostConfig.CpuShares}}"
        ),
        "67108864 512"
    );
    assert_eq!(
        inspect(
            "t-limits--plain",
            "{{.HostConfig.Memory}} {{.HostConfig.CpuShares}}"
        ),
        "0 0"
    );
    let listed = sup.list().await.unwrap();
    let limited = listed[0].container.clone().unwrap();
    let plain = listed[1].container.clone().unwrap();
    assert_eq!(
        (limited.memory, limited.cpu_shares),
        (Some(64 << 20), Some(512))
    );
    assert_eq!((plain.memory, plain.cpu_shares), (None, None));
}

#[actix::test]
async fn the_images_own_command_is_listed_as_none() {
    let Some((sup, _cleanup)) = supervisor("t-cmd").await else {
        return;
    };
    let mut events = sup.events().await;
    sup.add(UnitSpec::new("default", IMAGE)).await.unwrap();
    event_where(&mut events, "default", |e| e.state == UnitState::Exited).await;
    assert_eq!(
        sup.list().await.unwrap()[0]
            .container
            .clone()
            .unwrap()
            .command,
        None
    );
}

#[actix::test]
async fn two_namespaces_are_isolated() {
    let Some((a, _clean_a)) = supervisor("t-iso-a").await else {
        return;
    };
    let Some((b, _clean_b)) = supervisor("t-iso-b").await else {
        return;
    };
    a.add(sleeper("web")).await.unwrap();
    b.add(sleeper("web")).await.unwrap();
    assert_eq!(a.list().await.unwrap().len(), 1);
    assert_eq!(b.list().await.unwrap().len(), 1);
    b.remove("web").await.unwrap();
    assert_eq!(inspect("t-iso-a--web", "{{.State.Running}}"), "true");
}

#[actix::test]
async fn an_exited_unit_is_listed_inactive_and_can_be_removed_twice() {
    let Some((sup, _cleanup)) = supervisor("t-exit").await else {
        return;
    };
    let mut events = sup.events().await;
    sup.add(UnitSpec::new("once", IMAGE).command(["sh", "-c", "exit 4"]))
        .await
        .unwrap();
    event_where(&mut events, "once", |e| e.state == UnitState::Exited).await;
    let listed = &sup.list().await.unwrap()[0];
    assert!(!listed.is_active());
    assert_eq!(listed.last_exit_code, Some(4));
    sup.remove("once").await.unwrap();
    sup.remove("once").await.unwrap();
    assert_eq!(docker(&["ps", "-aq", "--filter", "name=t-exit--once"]), "");
}

#[actix::test]
async fn adding_twice_is_already_exists() {
    let Some((sup, _cleanup)) = supervisor("t-twice").await else {
        return;
    };
    sup.add(sleeper("web")).await.unwrap();
    assert_eq!(
        sup.add(sleeper("web")).await,
        Err(UnitError::AlreadyExists("web".into()))
    );
}

#[actix::test]
async fn a_host_port_held_by_a_plain_socket_is_address_in_use_and_nothing_is_left() {
    let Some((sup, _cleanup)) = supervisor("t-sock").await else {
        return;
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let spec = sleeper("web").port(format!("127.0.0.1:{port}:8080").parse().unwrap());
    let refused = sup.add(spec).await;
    assert!(
        matches!(refused, Err(UnitError::Engine(EngineError::AddressInUse { port: p, .. })) if p == port),
        "{refused:?}"
    );
    assert!(!sup.exists("web").await);
    assert_eq!(docker(&["ps", "-aq", "--filter", "name=t-sock--web"]), "");
}

#[actix::test]
async fn a_host_port_held_by_another_container_is_address_in_use() {
    let Some((sup, _cleanup)) = supervisor("t-held").await else {
        return;
    };
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:8080");
    sup.add(sleeper("first").port(publish.parse().unwrap()))
        .await
        .unwrap();
    let refused = sup
        .add(sleeper("second").port(publish.parse().unwrap()))
        .await;
    assert!(
        matches!(refused, Err(UnitError::Engine(EngineError::AddressInUse { port: p, .. })) if p == port),
        "{refused:?}"
    );
    assert_eq!(inspect("t-held--first", "{{.State.Running}}"), "true");
}

#[actix::test]
async fn an_invalid_name_fails_before_any_engine_call() {
    let Some((sup, _cleanup)) = supervisor("t-invalid").await else {
        return;
    };
    let calls_before = sup.stats().await.total_calls();
    let refused = sup.add(UnitSpec::new("no/slashes", IMAGE)).await;
    assert!(
        matches!(refused, Err(UnitError::Invalid { .. })),
        "{refused:?}"
    );
    assert_eq!(sup.stats().await.total_calls(), calls_before);
}

#[actix::test]
async fn a_missing_image_is_a_clear_pull_error_and_changes_nothing() {
    let Some((sup, _cleanup)) = supervisor("t-noimage").await else {
        return;
    };
    let refused = sup
        .add(UnitSpec::new("ghost", "stevedore-missing:nope"))
        .await;
    let message = refused.unwrap_err().to_string();
    assert!(
        message.contains("could not pull image stevedore-missing:nope"),
        "{message}"
    );
    assert!(!sup.exists("ghost").await);
    assert_eq!(sup.stats().await.pulls, 1);
}
