//! The `lottery` command line: verify a published record, produce and check
//! inclusion proofs, generate a key, and write the demo record.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use lottery::{
    BeaconChain, DrawState, InclusionProof, PublicKey, Record, SecretKey, hexfmt, verify_inclusion,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Verifiable live-room lottery tool (spec: docs/lottery.md).
#[derive(Parser)]
#[command(name = "lottery", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Re-check a published record; prints OK and the winners, or the
    /// failing check (exit status 1).
    Verify {
        /// The record (JSON).
        record: PathBuf,
        /// Require this public key (hex), the node group's pinned key.
        #[arg(long)]
        key: Option<String>,
        /// Require the record to mix in a round of drand's quicknet chain
        /// (chain hash, public key, genesis and period pinned).
        #[arg(long)]
        quicknet: bool,
        /// Also check the room's lottery events (JSON array, or one event
        /// per line, as the JSON codec sends them) against the record.
        #[arg(long)]
        events: Option<PathBuf>,
    },
    /// Print the inclusion proof (audit path) of one participant as JSON.
    ProveInclusion {
        /// The record (JSON).
        record: PathBuf,
        /// The participant's user id.
        #[arg(long)]
        user: String,
    },
    /// Check an inclusion proof against a published root and count.
    CheckInclusion {
        /// The Merkle root (hex).
        #[arg(long)]
        root: String,
        /// The number of participants N.
        #[arg(long)]
        count: u64,
        /// The participant's user id.
        #[arg(long)]
        user: String,
        /// The proof file written by `prove-inclusion`.
        #[arg(long)]
        proof: PathBuf,
    },
    /// Generate a new secret key; prints it and its public key as JSON.
    Keygen,
    /// Write the deterministic demo record (the docs' test vector).
    Demo {
        /// Output file; standard output when absent.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The beacon-mixed demo (quicknet round 123) instead.
        #[arg(long)]
        beacon: bool,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn read_record(path: &Path) -> Result<Record> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Record::from_json(&text).with_context(|| format!("parsing {}", path.display()))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Verify {
            record,
            key,
            quicknet,
            events,
        } => verify(&record, key.as_deref(), quicknet, events.as_deref()),
        Command::ProveInclusion { record, user } => {
            let record = read_record(&record)?;
            let lottery::Outcome::Drawn(drawn) = &record.outcome else {
                bail!("the record is abnormal: it has no participant set");
            };
            let list = &drawn.commitment.participants;
            let Some(index) = list.iter().position(|p| *p == user) else {
                bail!("{user:?} is not a participant");
            };
            let proof = lottery::merkle::prove(list, index).context("index out of range")?;
            println!("{}", serde_json::to_string_pretty(&proof)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckInclusion {
            root,
            count,
            user,
            proof,
        } => {
            let root: [u8; 32] =
                hexfmt::decode_array(&root).context("--root must be 32 bytes of lowercase hex")?;
            let text = std::fs::read_to_string(&proof)
                .with_context(|| format!("reading {}", proof.display()))?;
            let proof: InclusionProof = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", proof.display()))?;
            if proof.tree_size == count && verify_inclusion(&root, user.as_bytes(), &proof) {
                println!(
                    "OK: {user:?} is participant {} of {count}",
                    proof.leaf_index
                );
                Ok(ExitCode::SUCCESS)
            } else {
                println!("FAILED: proof does not place {user:?} under this root and count");
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Keygen => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("OS randomness: {e}"))?;
            let key = SecretKey::from_bytes(&seed);
            let out = serde_json::json!({
                "secret_key": hexfmt::encode(&key.to_bytes()),
                "public_key": key.public_key().to_hex(),
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { out, beacon } => {
            // The canonical text: println! adds its one line feed.
            let record = if beacon {
                lottery::demo::demo_beacon_record()
            } else {
                lottery::demo::demo_record()
            };
            let json = record.to_json();
            match out {
                Some(path) => std::fs::write(&path, json + "\n")
                    .with_context(|| format!("writing {}", path.display()))?,
                None => println!("{json}"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_events(path: &Path) -> Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if let Ok(v) = serde_json::from_str(&text) {
        return Ok(v);
    }
    let lines = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<Vec<serde_json::Value>, _>>()
        .with_context(|| format!("parsing {} (JSON or JSON lines)", path.display()))?;
    Ok(serde_json::Value::Array(lines))
}

fn verify(
    path: &Path,
    key: Option<&str>,
    quicknet: bool,
    events: Option<&Path>,
) -> Result<ExitCode> {
    let log = events.map(read_events).transpose()?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let record = match Record::from_canonical(&text) {
        Ok(r) => r,
        Err(lottery::CanonicalError::Json(e)) => {
            return Err(e).with_context(|| format!("parsing {}", path.display()));
        }
        Err(e) => {
            println!("FAILED: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let result = match key {
        Some(hex) => {
            let pinned =
                PublicKey::from_hex(hex).context("--key must be 32 bytes of lowercase hex")?;
            lottery::verify_pinned(&record, &pinned)
        }
        None => lottery::verify(&record),
    };
    let result = match result {
        Ok(_) if quicknet => lottery::verify_beacon_pinned(&record, &BeaconChain::quicknet()),
        other => other,
    };
    let checked = match result {
        Ok(checked) => checked,
        Err(e) => {
            println!("FAILED: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let logged = match log.as_ref().map(|l| lottery::check_events(&record, l)) {
        Some(Err(e)) => {
            println!("FAILED: event log: {e}");
            return Ok(ExitCode::FAILURE);
        }
        Some(Ok(l)) => Some(l),
        None => None,
    };
    let def = &checked.definition;
    let state = match checked.state {
        DrawState::Drawn => "drawn",
        DrawState::Abnormal => "abnormal (no draw)",
    };
    println!(
        "OK: lottery {:?} in room {:?} is {state}",
        def.lottery_id, def.room_id
    );
    println!(
        "announcement {}",
        hexfmt::encode(&checked.announcement_hash)
    );
    println!("public key   {}", checked.public_key.to_hex());
    if key.is_none() {
        println!("(pass --key to require the pinned key)");
    }
    if let Some(b) = &def.beacon {
        println!(
            "beacon       round {} of chain {} (at {} ms, signature verified)",
            b.round,
            hexfmt::encode(&b.chain_hash),
            b.round_time_ms()
        );
        if !quicknet {
            println!("(pass --quicknet to require drand's quicknet chain)");
        }
    }
    if let Some(l) = &logged {
        let at = l
            .committed_ts
            .map_or(String::new(), |t| format!(", committed at {t} ms"));
        println!("event log    {} lottery events agree{at}", l.events);
    }
    if let (Some(root), Some(beta)) = (checked.root, checked.beta) {
        println!(
            "participants {} root {}",
            checked.count,
            hexfmt::encode(&root)
        );
        println!("beta         {}", hexfmt::encode(&beta));
        println!(
            "winners      {} of K = {}",
            checked.winners.len(),
            def.winners
        );
        for (i, w) in checked.winners.iter().enumerate() {
            println!("  {:>3}. {}  code {}", i + 1, w.user_id, w.redemption_code);
        }
    }
    Ok(ExitCode::SUCCESS)
}
