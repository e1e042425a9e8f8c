//! The demo binary runs to completion and every check it prints holds.

use std::process::Command;

#[test]
fn the_demo_passes_its_checks() {
    let out = Command::new(env!("CARGO_BIN_EXE_awesomerpc-mesh"))
        .args(["--requests", "50"])
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("[ok]").count(), 7, "{stdout}");
    assert!(!stdout.contains("FAILED"), "{stdout}");
    assert!(stdout.contains("heartbeat answered by the proxy: true"));
}
