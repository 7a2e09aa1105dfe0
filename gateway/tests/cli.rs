//! The `gateway` binary as an operator first meets it: `--help` shows every
//! setting's default, `token --help` only what minting needs, and
//! `config-defaults` prints a TOML file the node accepts.
#![allow(clippy::unwrap_used, missing_docs)]

use std::process::Command;

use gateway::{ServeArgs, Settings};

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(args)
        .env_remove("GATEWAY_TOKEN_SECRET")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Help text with its wrapping undone.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn help_shows_every_default() {
    let help = one_line(&run(&["--help"]));
    let settings = Settings::describe();
    assert!(settings.len() > 20);
    for s in settings {
        let flag = format!("--{} <", s.key.replace('_', "-"));
        let at = help
            .find(&flag)
            .unwrap_or_else(|| panic!("no {flag} in {help}"));
        let entry = &help[at..];
        let want = format!("{} [default: {}]", s.doc, s.default);
        assert!(entry.contains(&want), "{flag}: no `{want}` in {entry:.300}");
    }
    assert!(
        help.contains("[default: 524288]"),
        "outbox_bytes as a number"
    );
}

#[test]
fn token_help_lists_only_what_minting_needs() {
    let help = run(&["token", "--help"]);
    for flag in ["--user", "--name", "--ttl", "--token-secret", "--config"] {
        assert!(help.contains(flag), "token --help lacks {flag}:\n{help}");
    }
    for flag in ["--redis", "--listen", "--tick-ms", "--admin-key"] {
        assert!(!help.contains(flag), "token --help lists {flag}:\n{help}");
    }
}

#[test]
fn token_reads_the_secret_from_the_config_file() {
    let path = std::env::temp_dir().join(format!("gw-token-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        "token_secret = \"filesecret\"\nredis_prefix = \"x\"\n",
    )
    .unwrap();
    let token = run(&[
        "token",
        "--user",
        "alice",
        "--config",
        path.to_str().unwrap(),
    ]);
    std::fs::remove_file(&path).ok();
    let keys = gateway::auth::TokenKeys::new(b"filesecret");
    let who = keys.verify(token.trim(), &protocol::Limits::default());
    assert!(who.is_ok(), "{token}: {who:?}");
}

#[test]
fn config_defaults_is_a_file_the_node_accepts_at_the_defaults() {
    let text = run(&["config-defaults"]);
    let path = std::env::temp_dir().join(format!("gw-defaults-{}.toml", std::process::id()));
    std::fs::write(&path, &text).unwrap();
    let loaded = Settings::load(ServeArgs {
        config: Some(path.clone()),
        ..ServeArgs::default()
    });
    std::fs::remove_file(&path).ok();
    let loaded = loaded.unwrap();
    let d = Settings::default();
    assert_eq!(loaded.outbox_bytes, d.outbox_bytes);
    assert_eq!(loaded.abnormal_timeout_ms, 15 * 60 * 1000);
    assert_eq!(loaded.redis_sentinel_master, "mymaster");
    assert_eq!(loaded.listen, d.listen);
    assert!(text.contains("\noutbox_bytes = 524288\n"), "{text}");
}

#[test]
fn the_startup_hint_names_the_binary_as_it_was_started() {
    use std::io::{BufRead, BufReader};
    let exe = env!("CARGO_BIN_EXE_gateway");
    let secrets = std::env::temp_dir().join(format!("gw-hint-{}.env", std::process::id()));
    let mut child = Command::new(exe)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("GATEWAY_TOKEN_SECRET")
        .env_remove("GATEWAY_CONFIG")
        .env("RUST_LOG", "error")
        .env("GATEWAY_SECRETS_FILE", &secrets)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut hint = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line.contains(" token --user ") {
            hint = Some(line.clone());
        }
        if line.starts_with("gateway listening on") {
            break;
        }
    }
    child.kill().ok();
    child.wait().ok();
    let _ = std::fs::remove_file(&secrets);
    let hint = hint.expect("no token hint printed");
    assert!(
        hint.contains(&format!(" {exe} token ")),
        "hint does not name {exe}: {hint}"
    );
}
