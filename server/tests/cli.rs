//! `tftsr scan` and `tftsr redact` as a user runs them: the real binary,
//! files and stdin, JSON lines with byte offsets into the file.

use std::io::Write;
use std::process::{Command, Stdio};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../app/core/testdata/samples/09_ci_pipeline_secret_leak.log"
);

fn tftsr() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftsr"));
    cmd.env("RUST_LOG", "off");
    cmd
}

fn findings(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8(stdout.to_vec())
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[test]
fn scan_prints_byte_offsets_lines_and_optionally_values() {
    let bytes = std::fs::read(SAMPLE).expect("sample");
    let out = tftsr()
        .args(["scan", "--show-values", SAMPLE])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = findings(&out.stdout);
    assert!(found.len() > 5);
    for f in &found {
        let (start, end) = (
            f["start"].as_u64().expect("start") as usize,
            f["end"].as_u64().expect("end") as usize,
        );
        assert_eq!(
            &bytes[start..end],
            f["value"].as_str().expect("value").as_bytes(),
            "offsets are into the file"
        );
        let line = bytes[..start].iter().filter(|&&b| b == b'\n').count() + 1;
        assert_eq!(f["line"].as_u64(), Some(line as u64));
    }
    let plain = tftsr().args(["scan", SAMPLE]).output().expect("runs");
    let plain = findings(&plain.stdout);
    assert_eq!(plain.len(), found.len());
    assert!(
        plain.iter().all(|f| f.get("value").is_none()),
        "no values by default"
    );
}

#[test]
fn stdin_a_bom_and_redact_agree() {
    let text = "\u{feff}deploy by alice@example.org from 10.20.30.40\n";
    let mut child = tftsr()
        .args(["scan", "--show-values", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawns");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("runs");
    let found = findings(&out.stdout);
    let email = found
        .iter()
        .find(|f| f["type"] == "EMAIL")
        .expect("email found");
    let start = email["start"].as_u64().expect("start") as usize;
    assert_eq!(&text.as_bytes()[start..start + 17], b"alice@example.org");

    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.log");
    let output = dir.path().join("out.log");
    std::fs::write(&input, text).expect("write");
    let status = tftsr()
        .args([
            "redact",
            input.to_str().expect("utf-8"),
            "-o",
            output.to_str().expect("utf-8"),
        ])
        .status()
        .expect("runs");
    assert!(status.success());
    let redacted = std::fs::read_to_string(&output).expect("read");
    assert_eq!(redacted, "deploy by [EMAIL_1] from [IPV4_1]\n");
    let masked = tftsr()
        .args(["redact", "--mask", input.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&masked.stdout),
        "deploy by [EMAIL] from [IPV4]\n"
    );
}

#[test]
fn unreadable_or_binary_input_fails_with_a_message() {
    let out = tftsr()
        .args(["scan", "/nonexistent/file.log"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read /nonexistent/file.log"), "{err}");

    let dir = tempfile::tempdir().expect("tempdir");
    let out = tftsr()
        .args(["scan", dir.path().to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert!(!out.status.success());

    let bin = dir.path().join("a.out");
    std::fs::write(&bin, b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0").expect("write");
    let out = tftsr()
        .args(["redact", bin.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("program"));
}
