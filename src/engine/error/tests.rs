//! Table tests of the classification of engine failures.

use super::*;

fn status(operation: Operation, code: u16, message: &str) -> EngineError {
    classify(
        operation,
        "subject",
        &RawFailure::Status {
            code,
            message: message.into(),
        },
    )
}

#[test]
fn userland_proxy_wording_reads_as_address_in_use() {
    let msg = "driver failed programming external connectivity on endpoint demo--web (3f2a): Error starting userland proxy: listen tcp4 127.0.0.1:18080: bind: address already in use";
    assert_eq!(
        status(Operation::Start, 500, msg),
        EngineError::AddressInUse {
            ip: Some("127.0.0.1".into()),
            port: 18080
        }
    );
}

#[test]
fn port_allocator_wording_reads_as_address_in_use() {
    let msg = "driver failed programming external connectivity on endpoint demo--b (9c1): Bind for 0.0.0.0:18081 failed: port is already allocated";
    assert_eq!(
        status(Operation::Start, 500, msg),
        EngineError::AddressInUse {
            ip: Some("0.0.0.0".into()),
            port: 18081
        }
    );
}

#[test]
fn ipv6_bind_failures_keep_the_address() {
    let msg = "Bind for [::]:9000 failed: port is already allocated";
    assert_eq!(
        address_in_use(msg),
        Some(EngineError::AddressInUse {
            ip: Some("::".into()),
            port: 9000
        })
    );
}

#[test]
fn not_found_means_image_on_create_and_container_elsewhere() {
    assert_eq!(
        status(Operation::Create, 404, "No such image: busybox:nope"),
        EngineError::ImageNotFound("subject".into())
    );
    assert_eq!(
        status(Operation::Start, 404, "No such container: demo--web"),
        EngineError::ContainerNotFound("subject".into())
    );
    assert_eq!(
        status(Operation::InspectImage, 404, "No such image: x:y"),
        EngineError::ImageNotFound("subject".into())
    );
}

#[test]
fn name_conflicts_are_conflicts() {
    let msg = r#"Conflict. The container name "/demo--web" is already in use by container "0a1b". You have to remove (or rename) that container to be able to reuse that name."#;
    assert!(matches!(
        status(Operation::Create, 409, msg),
        EngineError::Conflict(_)
    ));
}

#[test]
fn device_races_and_503_are_transient() {
    for (code, msg) in [
        (500, "Unknown device 4f2e"),
        (500, "devmapper: no such device"),
        (503, "service unavailable"),
    ] {
        let error = status(Operation::Stop, code, msg);
        assert!(matches!(error, EngineError::Transient(_)), "{msg}");
        assert!(error.is_retryable());
    }
}

#[test]
fn invalid_requests_are_not_retried() {
    let error = status(Operation::Create, 400, "invalid reference format");
    assert!(matches!(error, EngineError::InvalidRequest(_)));
    assert!(!error.is_retryable());
    let error = status(
        Operation::Create,
        500,
        "invalid mount config for type \"bind\": bind source path does not exist",
    );
    assert!(matches!(error, EngineError::InvalidRequest(_)));
}

#[test]
fn a_missing_socket_and_a_refused_connection_are_unavailable() {
    for failure in [
        RawFailure::SocketMissing("/var/run/docker.sock".into()),
        RawFailure::ConnectionRefused("connection refused".into()),
    ] {
        assert!(matches!(
            classify(Operation::List, "", &failure),
            EngineError::Unavailable(_)
        ));
    }
}

#[test]
fn a_broken_connection_is_transient() {
    let failure = RawFailure::ConnectionLost("connection reset by peer".into());
    assert!(matches!(
        classify(Operation::Start, "", &failure),
        EngineError::Transient(_)
    ));
    let eof = RawFailure::Other("error reading a body from connection: unexpected EOF".into());
    let cut = RawFailure::Other("error reading a body from connection".into());
    assert!(matches!(
        classify(Operation::Events, "", &cut),
        EngineError::Transient(_)
    ));
    assert!(matches!(
        classify(Operation::Start, "", &eof),
        EngineError::Transient(_)
    ));
}

#[test]
fn client_timeouts_are_transient_only_for_idempotent_calls() {
    assert!(classify(Operation::Stop, "", &RawFailure::ClientTimeout).is_retryable());
    assert!(!classify(Operation::Create, "", &RawFailure::ClientTimeout).is_retryable());
}

#[test]
fn a_pull_that_cannot_reach_a_registry_is_a_pull_failure() {
    let failure = RawFailure::Stream(
        "Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host".into(),
    );
    assert!(matches!(
        classify(Operation::Pull, "busybox:nope", &failure),
        EngineError::PullFailed { ref image, .. } if image == "busybox:nope"
    ));
}

#[test]
fn a_failing_build_step_is_a_build_failure_and_is_not_retried() {
    let failure =
        RawFailure::Stream("The command '/bin/sh -c exit 3' returned a non-zero code: 3".into());
    let error = classify(Operation::Build, "shop-web", &failure);
    assert!(matches!(
        &error,
        EngineError::BuildFailed { image, message } if image == "shop-web" && message.contains("non-zero code: 3")
    ));
    assert!(!error.is_retryable());
    assert!(!classify(Operation::Build, "", &RawFailure::ClientTimeout).is_retryable());
    assert!(matches!(
        status(
            Operation::Build,
            500,
            "Cannot locate specified Dockerfile: Dockerfile"
        ),
        EngineError::BuildFailed { .. }
    ));
}

#[test]
fn unknown_failures_are_other_and_not_retried() {
    let error = status(
        Operation::Start,
        500,
        "OCI runtime create failed: exec: \"nope\": not found",
    );
    assert!(matches!(error, EngineError::Other(_)));
    assert!(!error.is_retryable());
}

#[test]
fn a_second_join_of_a_network_reads_as_already_joined() {
    let again = status(
        Operation::ConnectNetwork,
        403,
        "endpoint with name shop--web already exists in network shop_back",
    );
    assert!(again.is_already_joined(), "{again:?}");
    assert!(
        !status(
            Operation::ConnectNetwork,
            404,
            "network shop_back not found"
        )
        .is_already_joined()
    );
}
