//! A small mutational fuzzer that runs on a stable toolchain: for each
//! target it runs every corpus input, then for the given seconds mutates
//! them (bit flips, byte edits, splices, dictionary tokens) and runs the
//! target on each mutant. No coverage feedback: mutants that the target
//! accepted (they parsed, or the filter hit) join the pool, the poor man's
//! version of it; the seeds always stay. A panic writes the input to
//! `fuzz/artifacts/<target>/crash-<hash>` and exits 1.
//!
//! `fuzz-stable [--seconds N] [--seed S] [TARGET...]` (all targets when
//! none is named); `fuzz-stable --replay FILE TARGET` runs one input;
//! `fuzz-stable --write-seeds` rewrites the generated seeds: the postcard
//! frames from the JSON ones (so both codecs start from every request) and
//! the lottery records (the demo draw, its abnormal twin, a tampered copy).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::panic;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use gateway_fuzz::{TARGETS, Target};

/// Tokens spliced into inputs: JSON structure and the protocol's and the
/// lottery record's keys, so mutants reach past the first parse error.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"null",
    b"true",
    b"false",
    b"0",
    b"-1",
    b"18446744073709551615",
    b"1e400",
    b"\"type\"",
    b"\"id\"",
    b"\"comment\"",
    b"\"join\"",
    b"\"resume\"",
    b"\"mute\"",
    b"\"words\"",
    b"\"lottery_create\"",
    b"\"state\"",
    b"\"drawn\"",
    b"\"abnormal\"",
    b"\"outcome\"",
    b"\\u0000",
    b"\\ud800",
    "微信".as_bytes(),
    "ｆｕｃｋ".as_bytes(),
    "①③⑧".as_bytes(),
    "\u{200b}".as_bytes(),
    b"http://",
    b".com",
    b"\xff",
    b"\x80",
    b"\x00",
];

/// Largest input the driver builds (frames are capped at 8 KiB anyway).
const MAX_LEN: usize = 16 * 1024;
/// Most inputs kept per target.
const MAX_POOL: usize = 2_000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut Rng, input: &[u8], pool: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(8) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            2 if at < out.len() => {
                let n = 1 + rng.below((out.len() - at).min(16));
                out.drain(at..at + n);
            }
            3 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, t.iter().copied());
            }
            4 if !pool.is_empty() => {
                // Splice a slice of another input.
                let other = &pool[rng.below(pool.len())];
                let from = rng.below(other.len() + 1);
                let to = from + rng.below(other.len() - from + 1);
                out.splice(at..at, other[from..to].iter().copied());
            }
            5 if at < out.len() => {
                // Duplicate a slice in place (nesting, repeated fields).
                let to = at + rng.below((out.len() - at).min(64) + 1);
                let copy = out[at..to].to_vec();
                out.splice(at..at, copy);
            }
            6 if !out.is_empty() => {
                let i = rng.below(out.len());
                const BYTES: &[u8] = b"0123456789az{}[]\",:-. \\";
                out[i] = BYTES[rng.below(BYTES.len())];
            }
            _ => out.truncate(at),
        }
    }
    out.truncate(MAX_LEN);
    out
}

fn read_corpus(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

/// Runs the target on one input: whether it accepted it, or `Err` after a
/// panic, its input saved.
fn try_one(target: &Target, input: &[u8], root: &Path) -> Result<bool, ()> {
    if let Ok(accepted) = panic::catch_unwind(|| (target.run)(input)) {
        return Ok(accepted);
    }
    let mut h = DefaultHasher::new();
    input.hash(&mut h);
    let dir = root.join("artifacts").join(target.name);
    let path = dir.join(format!("crash-{:016x}", h.finish()));
    let saved = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, input));
    match saved {
        Ok(()) => eprintln!("{}: panic; input saved to {}", target.name, path.display()),
        Err(e) => eprintln!("{}: panic; input not saved ({e}): {input:?}", target.name),
    }
    Err(())
}

fn fuzz(target: &Target, root: &Path, seconds: u64, seed: u64) -> bool {
    let mut pool = read_corpus(&root.join("corpus").join(target.name));
    if pool.is_empty() {
        eprintln!("{}: no corpus in fuzz/corpus/{}", target.name, target.name);
        return false;
    }
    for input in &pool {
        if try_one(target, input, root).is_err() {
            return false;
        }
    }
    let seeds = pool.len();
    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut runs = 0u64;
    while Instant::now() < deadline {
        for _ in 0..256 {
            // Half the time a seed, so kept mutants never crowd them out.
            let parent = if rng.below(2) == 0 {
                &pool[rng.below(seeds)]
            } else {
                &pool[rng.below(pool.len())]
            };
            let child = mutate(&mut rng, parent, &pool);
            let Ok(accepted) = try_one(target, &child, root) else {
                return false;
            };
            runs += 1;
            if accepted && pool.len() < MAX_POOL {
                pool.push(child);
            } else if accepted && pool.len() > seeds {
                let i = seeds + rng.below(pool.len() - seeds);
                pool[i] = child;
            }
        }
    }
    println!(
        "{}: {runs} inputs in {seconds} s, no panic ({} seeds, {} accepted mutants kept)",
        target.name,
        seeds,
        pool.len() - seeds
    );
    true
}

fn write_seeds(corpus: &Path) -> ExitCode {
    match write_binary_seeds(corpus).and_then(|()| write_lottery_seeds(corpus)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn write_binary_seeds(corpus: &Path) -> std::io::Result<()> {
    use protocol::Codec;
    let out = corpus.join("binary_decode_client");
    for entry in std::fs::read_dir(corpus.join("json_decode_client"))? {
        let path = entry?.path();
        let Ok(frame) = Codec::Json.decode_client(&std::fs::read(&path)?) else {
            continue;
        };
        if let Some(stem) = path.file_stem() {
            let file = out.join(stem).with_extension("bin");
            std::fs::write(file, Codec::Binary.encode_client(&frame))?;
        }
    }
    Ok(())
}

fn write_lottery_seeds(corpus: &Path) -> std::io::Result<()> {
    use lottery::demo;
    let out = corpus.join("lottery_record");
    let drawn = demo::demo_record();
    std::fs::write(out.join("demo-drawn.json"), drawn.to_json())?;
    let abnormal = lottery::abandon(&drawn.announcement, &demo::demo_key(), "live ended")
        .map_err(std::io::Error::other)?;
    std::fs::write(out.join("demo-abnormal.json"), abnormal.to_json())?;
    let mut tampered = drawn;
    if let lottery::Outcome::Drawn(d) = &mut tampered.outcome {
        d.winners.reverse();
    }
    std::fs::write(out.join("demo-tampered.json"), tampered.to_json())?;
    Ok(())
}

fn main() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut args = std::env::args().skip(1);
    let mut seconds = 30u64;
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let mut names = vec![];
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => seconds = args.next().and_then(|s| s.parse().ok()).unwrap_or(seconds),
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(seed),
            "--replay" => {
                let (Some(file), Some(name)) = (args.next(), args.next()) else {
                    eprintln!("usage: fuzz-stable --replay FILE TARGET");
                    return ExitCode::from(2);
                };
                let Some(t) = TARGETS.iter().find(|t| t.name == name) else {
                    eprintln!("unknown target {name}");
                    return ExitCode::from(2);
                };
                let input = std::fs::read(&file).unwrap_or_default();
                let accepted = (t.run)(&input);
                println!("{name}: {file} passes (accepted: {accepted})");
                return ExitCode::SUCCESS;
            }
            "--write-seeds" => return write_seeds(&root.join("corpus")),
            _ => names.push(a),
        }
    }
    // A panic is reported once, with its input, by try_one.
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        eprintln!("{info}");
        if std::env::var_os("RUST_BACKTRACE").is_some() {
            default_hook(info);
        }
    }));
    println!("fuzz-stable: seed {seed}");
    let (mut passed, mut failed) = (0, 0);
    for t in TARGETS {
        if names.is_empty() || names.iter().any(|n| n == t.name) {
            if fuzz(t, &root, seconds, seed) {
                passed += 1;
            } else {
                failed += 1;
            }
        }
    }
    if let Some(unknown) = names.iter().find(|n| !TARGETS.iter().any(|t| t.name == *n)) {
        eprintln!("unknown target {unknown}");
        failed += 1;
    }
    println!("fuzz: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
