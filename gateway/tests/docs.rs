//! Docs that must match the code: every setting is in the README table, every
//! error and close code is in docs/protocol.md.
#![allow(clippy::unwrap_used, missing_docs)]

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn every_setting_is_documented_in_the_readme() {
    let config = read("gateway/src/config.rs");
    let readme = read("README.md");
    let envs: Vec<&str> = config
        .split('"')
        .filter(|s| s.starts_with("GATEWAY_"))
        .collect();
    assert!(envs.len() > 20, "parsed {envs:?}");
    for env in envs {
        assert!(readme.contains(&format!("`{env}`")), "README lacks {env}");
    }
}

#[test]
fn every_error_and_close_code_is_in_the_protocol_doc() {
    let doc = read("docs/protocol.md");
    let errors = read("protocol/src/error.rs");
    for line in errors.lines() {
        if let Some(name) = line
            .trim()
            .strip_prefix("ErrorCode::")
            .and_then(|l| l.split(" => \"").nth(1))
        {
            let name = name.trim_end_matches("\",");
            assert!(
                doc.contains(&format!("`{name}`")),
                "protocol.md lacks error code {name}"
            );
        }
    }
    for code in [1000, 1009, 4000, 4001, 4002, 4003, 4004, 4100, 4101, 4102] {
        assert!(
            doc.contains(&code.to_string()),
            "protocol.md lacks close code {code}"
        );
    }
}

#[test]
fn the_readme_table_shows_every_default_as_toml() {
    let readme = read("README.md");
    let table = readme
        .split("<!-- settings:begin -->")
        .nth(1)
        .and_then(|t| t.split("<!-- settings:end -->").next())
        .unwrap();
    let settings = gateway::Settings::describe();
    for s in &settings {
        let row = table
            .lines()
            .find(|l| l.contains(&format!("| `{}` |", s.key)))
            .unwrap_or_else(|| panic!("README table lacks {}", s.key));
        let cells: Vec<&str> = row.split(" | ").collect();
        assert_eq!(
            cells.get(3).copied(),
            Some(format!("`{}`", s.default).as_str()),
            "{}: README default differs from the code's (run scripts/config-table.py)",
            s.key
        );
        assert_eq!(cells.get(1).copied(), Some(format!("`{}`", s.env).as_str()));
    }
    let rows = table.lines().filter(|l| l.starts_with("| `--")).count();
    assert_eq!(
        rows,
        settings.len() + 1,
        "one row per setting, plus --config"
    );
}
