//! The real `gateway` binary with piped stdout and stderr: secrets it
//! generates go to a 0600 file and never to either stream; logs go to
//! stderr, without colour codes when it is not a terminal.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn generated_secrets_go_to_a_private_file_and_never_to_the_streams() {
    let dir = std::env::temp_dir().join(format!("gw-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["--listen", "127.0.0.1:0"])
        .current_dir(&dir)
        .env_clear()
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, stdout_lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            all.push_str(&line);
            all.push('\n');
            let _ = lines.send(line);
        }
        all
    });
    let mut stderr = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || {
        let mut all = String::new();
        stderr.read_to_string(&mut all).unwrap();
        all
    });
    let started = loop {
        match stdout_lines.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.starts_with("gateway listening on") => break true,
            Ok(_) => continue,
            Err(_) => break false,
        }
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    assert!(
        started,
        "the node never said it listens\n{stdout}\n{stderr}"
    );

    let path = dir.join("gateway-secrets.env");
    let file = std::fs::read_to_string(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "secrets file mode {mode:o}");
    }
    let mut secrets = vec![];
    for name in [
        "GATEWAY_TOKEN_SECRET",
        "GATEWAY_ADMIN_KEY",
        "GATEWAY_LOTTERY_KEY",
    ] {
        let value = file
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} missing from\n{file}"));
        assert!(value.len() >= 32, "{name}={value}");
        secrets.push(value.to_string());
    }
    for s in &secrets {
        assert!(
            !stdout.contains(s.as_str()),
            "a secret on stdout:\n{stdout}"
        );
        assert!(
            !stderr.contains(s.as_str()),
            "a secret on stderr:\n{stderr}"
        );
    }
    assert!(
        stdout.contains(&path.display().to_string()),
        "stdout does not name the file:\n{stdout}"
    );
    assert!(
        stderr.contains("gateway listening"),
        "no logs on stderr:\n{stderr}"
    );
    assert!(!stdout.contains(" INFO "), "logs on stdout:\n{stdout}");
    assert!(
        !stderr.contains("\x1b["),
        "colour codes on a piped stderr:\n{stderr:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
