//! Units that cannot be brought up, through the binary: they stay declared
//! and visible, `failed` with the reason, rather than vanishing.

mod common;

use common::cli::{Up, manifest, ps_when, run};
use common::{Cleanup, engine};

#[actix::test]
async fn a_unit_whose_image_cannot_be_pulled_stays_listed_as_failed_with_the_reason() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-cli-no-image");
    // No registry answers on these machines: the pull fails at once.
    let text = r#"namespace = "t-cli-no-image"

[[unit]]
name = "ghost"
image = "stevedore-no-such-image:latest"

[[unit]]
name = "fine"
image = "stevedore-test:latest"
command = ["sleep", "600"]
"#;
    let file = manifest("no-image", text);
    let mut up = Up::start(&file, &[]);
    up.wait_for(&[" ghost ", "failed", "stevedore-no-such-image:latest"]);
    up.wait_for(&["ERROR", "unit ghost:", "stevedore-no-such-image:latest"]);
    up.wait_running(&["fine"]);
    let rows = ps_when("t-cli-no-image", |rows| {
        rows.iter()
            .any(|r| r["name"] == "ghost" && r["phase"] == "failed")
    });
    let ghost = rows.iter().find(|r| r["name"] == "ghost").unwrap();
    assert_eq!(ghost["status"], "not created", "{ghost}");
    let table = run(&["ps", "-n", "t-cli-no-image"]);
    let table = String::from_utf8_lossy(&table.stdout);
    let line = table.lines().find(|l| l.starts_with("ghost")).unwrap();
    assert!(
        line.contains("not created (") && line.contains("stevedore-no-such-image:latest"),
        "{table}"
    );
    up.signal("INT");
    assert_eq!(up.wait_exit(), 0);
}
