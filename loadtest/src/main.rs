//! `loadtest`: run a scenario (coordinator), or be one of its workers.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use loadtest::coordinator::{self, RunOpts};
use loadtest::plan::WorkerPlan;
use loadtest::report::{Report, Slo};
use loadtest::scenario::Scenario;

/// Load generator for the live-room gateway.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run a scenario: spawn workers, show progress, write the reports.
    Run(RunArgs),
    /// Validate a scenario and print how it would be split over workers.
    Check {
        /// Scenario TOML file.
        scenario: PathBuf,
    },
    /// Internal: one worker process; reads its plan (JSON) from stdin and
    /// prints JSON lines on stdout.
    Worker,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Scenario TOML file.
    scenario: PathBuf,
    /// Directory for report.json, report.md and chart.svg.
    #[arg(long, default_value = "loadtest-out")]
    out: PathBuf,
    /// Pid of a local gateway to sample for RSS and CPU (repeatable; the
    /// index is the `node` of kill/term actions).
    #[arg(long = "gateway-pid")]
    gateway_pid: Vec<u32>,
    /// Admin key (overrides the scenario's).
    #[arg(long, env = "LOADTEST_ADMIN_KEY")]
    admin_key: Option<String>,
    /// Fail (exit 2) if the p99 comment latency exceeds this many ms.
    #[arg(long)]
    max_p99_ms: Option<f64>,
    /// Fail (exit 2) if the high-lane loss (gaps / high batches) exceeds this fraction.
    #[arg(long)]
    max_loss: Option<f64>,
    /// Allow targets outside 127.0.0.0/8.
    #[arg(long)]
    allow_remote: bool,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.cmd {
        Cmd::Worker => {
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input)?;
            let plan: WorkerPlan = serde_json::from_str(&input).context("worker plan")?;
            rt.block_on(loadtest::worker::run(plan))
        }
        Cmd::Check { scenario } => {
            let s = load(&scenario)?;
            let tokens: Vec<String> = (0..s.sender_count()).map(|_| String::new()).collect();
            let likers: Vec<String> = (0..s.liker_count()).map(|_| String::new()).collect();
            for p in coordinator::plans(&s, &tokens, &likers, 0) {
                let viewers: usize = p.rooms.iter().map(|r| r.viewers).sum();
                println!(
                    "worker {}: {viewers} viewers in {} room(s), {} senders, {} likers, ramp {:.0}/s",
                    p.worker,
                    p.rooms.len(),
                    p.senders.len(),
                    p.likers.len(),
                    p.ramp_per_s
                );
            }
            println!(
                "ramp {} s, traffic {} s, {} source address(es)",
                s.ramp_s(),
                s.duration_s,
                s.source_ip_count()
            );
            Ok(())
        }
        Cmd::Run(args) => {
            let s = load(&args.scenario)?;
            let opts = RunOpts {
                gateway_pids: args.gateway_pid.clone(),
                allow_remote: args.allow_remote,
                progress: !args.no_progress,
                exe: std::env::current_exe().context("own executable")?,
                admin_key: args.admin_key.clone(),
            };
            let collected = rt.block_on(coordinator::run(s, opts))?;
            let slo = Slo {
                max_p99_ms: args.max_p99_ms,
                max_loss: args.max_loss,
            };
            let report = Report::build(collected, slo)?;
            print!("{}", report.summary());
            std::fs::create_dir_all(&args.out)
                .with_context(|| format!("creating {}", args.out.display()))?;
            std::fs::write(
                args.out.join("report.json"),
                serde_json::to_vec_pretty(&report)?,
            )?;
            std::fs::write(args.out.join("report.md"), report.markdown())?;
            if let Err(e) = loadtest::chart::write_svg(
                &args.out.join("chart.svg"),
                &report.scenario,
                &report.series,
            ) {
                eprintln!("chart not written: {e:#}");
            }
            println!("reports in {}", args.out.display());
            if !report.violations.is_empty() {
                std::process::exit(2);
            }
            Ok(())
        }
    }
}

fn load(path: &PathBuf) -> anyhow::Result<Scenario> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Scenario::parse(&text)
}
