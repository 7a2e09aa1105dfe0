#!/usr/bin/env python3
"""Regenerates the settings table in README.md from gateway/src/config.rs."""
import pathlib, re

root = pathlib.Path(__file__).resolve().parent.parent
src = (root / "gateway/src/config.rs").read_text()
body = src[src.index("settings! {") + len("settings! {"):]
body = body[:body.index("\n}\n")]
rows = ["| flag | env | TOML key | default | meaning |", "| --- | --- | --- | --- | --- |",
        "| `--config` | `GATEWAY_CONFIG` | — | none | TOML file with any of the settings below |"]
doc = []
pretty = {"SocketAddr::from(([127, 0, 0, 1], 8080))": "127.0.0.1:8080", "String::new()": "(empty)",
          '"text".to_string()': "text"}
for line in body.splitlines():
    line = line.strip()
    if line.startswith("///"):
        doc.append(line[3:].strip())
        continue
    m = re.match(r'(\w+): ([^=]+) = (.+), "(\w+)";', line)
    if m:
        name, _ty, default, env = m.groups()
        d = pretty.get(default.strip(), default.strip())
        rows.append(f"| `--{name.replace('_', '-')}` | `{env}` | `{name}` | `{d}` | {' '.join(doc)} |")
        doc = []
readme = root / "README.md"
text = readme.read_text()
begin, end = "<!-- settings:begin -->", "<!-- settings:end -->"
head, rest = text.split(begin)
_, tail = rest.split(end)
readme.write_text(head + begin + "\n" + "\n".join(rows) + "\n" + end + tail)
