//! The `mproto` command: exit codes and outputs of `check` and `gen`.

use std::process::Command;

fn mproto(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mproto"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the mproto binary runs")
}

#[test]
fn check_accepts_the_shipped_schemas() {
    let out = mproto(&[
        "check",
        "schemas/awesomerpc.mproto",
        "schemas/dubbo.mproto",
        "schemas/thrift.mproto",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ok: schemas/thrift.mproto (protocol `thrift`"),
        "{stdout}"
    );
}

#[test]
fn check_reports_every_error_and_fails() {
    let out = mproto(&[
        "check",
        "compiler/tests/diagnostics/several_mistakes.mproto",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for code in ["E0201", "E0301", "E0303", "E0202"] {
        assert!(
            stderr.contains(&format!("error[{code}]")),
            "{code} missing:\n{stderr}"
        );
    }
    assert!(
        stderr.contains("--> compiler/tests/diagnostics/several_mistakes.mproto:5:11"),
        "{stderr}"
    );
    assert!(stderr.contains("^^^^^ no type named `Kindd`"), "{stderr}");
}

#[test]
fn gen_prints_or_writes_rust() {
    let out = mproto(&["gen", "schemas/thrift.mproto"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("pub struct ThriftCodec;"));
    let dir = std::env::temp_dir().join(format!("mproto-cli-{}", std::process::id()));
    let out = mproto(&["gen", "schemas/dubbo.mproto", "-o", dir.to_str().unwrap()]);
    assert!(out.status.success());
    let code = std::fs::read_to_string(dir.join("dubbo.rs")).unwrap();
    assert!(code.contains("pub struct DubboCodec;"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn missing_files_are_errors() {
    let out = mproto(&["check", "no/such.mproto"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("E0204"));
}
