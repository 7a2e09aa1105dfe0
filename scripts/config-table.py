#!/usr/bin/env python3
"""Regenerates the settings table in README.md from `gateway config-defaults`
(every setting's doc, environment variable and default as a TOML value), so
the table shows what a TOML file takes. GATEWAY_BIN names a built binary;
otherwise the script runs it through cargo."""
import os, pathlib, subprocess

root = pathlib.Path(__file__).resolve().parent.parent
cmd = [os.environ["GATEWAY_BIN"]] if os.environ.get("GATEWAY_BIN") else \
    ["cargo", "run", "-q", "-p", "gateway", "--bin", "gateway", "--"]
text = subprocess.run(cmd + ["config-defaults"], cwd=root, check=True,
                      capture_output=True, text=True).stdout
rows = ["| flag | env | TOML key | default | meaning |", "| --- | --- | --- | --- | --- |",
        "| `--config` | `GATEWAY_CONFIG` | — | none | TOML file with any of the settings below |"]
# Each setting is three lines: "# doc", "# ENV", "key = value".
lines = [l for l in text.splitlines() if l.strip()]
for i, line in enumerate(lines):
    if line.startswith("#") or " = " not in line:
        continue
    key, value = line.split(" = ", 1)
    doc, env = lines[i - 2][1:].strip(), lines[i - 1][1:].strip()
    rows.append(f"| `--{key.replace('_', '-')}` | `{env}` | `{key}` | `{value}` | {doc} |")
readme = root / "README.md"
body = readme.read_text()
begin, end = "<!-- settings:begin -->", "<!-- settings:end -->"
head, rest = body.split(begin)
_, tail = rest.split(end)
readme.write_text(head + begin + "\n" + "\n".join(rows) + "\n" + end + tail)
