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
        /// Override a scenario key: `--set duration_s=10 --set rooms.count=4`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Internal: one worker process; reads its plan (JSON) from stdin and
    /// prints JSON lines on stdout.
    Worker,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Scenario TOML file.
    scenario: PathBuf,
    /// Override a scenario key (repeatable), value in TOML:
    /// `--set duration_s=10 --set viewers=500 --set rooms.prefix='"x"'`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
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
    /// Fail (exit 2) unless every comment sent was acked.
    #[arg(long)]
    require_all_acked: bool,
    /// Fail (exit 2) if the p99 co-stream signal relay latency exceeds this many ms.
    #[arg(long)]
    max_signal_p99_ms: Option<f64>,
    /// Fail (exit 2) unless every co-stream pair went live and negotiated,
    /// and every signal was accepted and delivered once, in order.
    #[arg(long)]
    require_signals_complete: bool,
    /// Shell command to run (`sh -c`, `LOADTEST_WINDOW=start`) when the
    /// traffic phase begins, e.g. to reset a server's counters.
    #[arg(long, value_name = "CMD")]
    on_window_start: Option<String>,
    /// Shell command to run (`LOADTEST_WINDOW=end`) when the drain after the
    /// traffic phase ends (1.5 s after the last request was sent).
    #[arg(long, value_name = "CMD")]
    on_window_end: Option<String>,
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
        Cmd::Check { scenario, set } => {
            let s = load(&scenario, &set)?;
            let tokens: Vec<String> = (0..s.sender_count()).map(|_| String::new()).collect();
            let likers: Vec<String> = (0..s.liker_count()).map(|_| String::new()).collect();
            let grabbers: Vec<String> = (0..s.grabber_count()).map(|_| String::new()).collect();
            let pairs = coordinator::pair_plans(&s, &[], &[]);
            for p in coordinator::plans(&s, &tokens, &likers, &grabbers, &pairs, 0) {
                let viewers: usize = p.rooms.iter().map(|r| r.viewers).sum();
                println!(
                    "worker {}: {viewers} viewers in {} room(s), {} senders, {} likers, {} grabbers, {} co-stream pairs, ramp {:.0}/s",
                    p.worker,
                    p.rooms.len(),
                    p.senders.len(),
                    p.likers.len(),
                    p.grabbers.len(),
                    p.pairs.len(),
                    p.ramp_per_s
                );
            }
            if let Some(c) = &s.costream {
                let n = s.targets.len();
                let mut on: Vec<usize> = vec![0; n * n];
                for p in &pairs {
                    on[p.anchor_target * n + p.guest_target] += 1;
                }
                println!(
                    "co-stream: {} pairs, {} signals per party ({} candidates), SDP {} bytes, candidate {} bytes, one every {} ms; anchor→guest node pairs: {}",
                    c.pairs,
                    c.signals_per_party(),
                    c.candidates,
                    c.sdp_bytes,
                    c.candidate_bytes,
                    c.pace_ms,
                    on.iter()
                        .enumerate()
                        .filter(|(_, k)| **k > 0)
                        .map(|(i, k)| format!("{}→{}: {k}", i / n, i % n))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            println!(
                "ramp {} s, traffic {} s, {} source address(es)",
                s.ramp_s(),
                s.duration_s,
                s.source_ip_count()
            );
            let (senders, likers) = (s.sender_count(), s.liker_count());
            if senders > 0 {
                println!(
                    "comments: {:.0}/s from {senders} sender users, {:.2}/s each",
                    s.comment_rate,
                    s.comment_rate / senders as f64
                );
            }
            if likers > 0 {
                println!(
                    "likes: {:.0} requests/s of {} tap(s) = {:.0} taps/s from {likers} liker users, {:.2} requests/s each",
                    s.like_rate,
                    s.like_count,
                    s.like_taps_per_s(),
                    s.like_rate / likers as f64
                );
            }
            Ok(())
        }
        Cmd::Run(args) => {
            let s = load(&args.scenario, &args.set)?;
            let opts = RunOpts {
                gateway_pids: args.gateway_pid.clone(),
                allow_remote: args.allow_remote,
                progress: !args.no_progress,
                exe: std::env::current_exe().context("own executable")?,
                admin_key: args.admin_key.clone(),
                on_window_start: args.on_window_start.clone(),
                on_window_end: args.on_window_end.clone(),
            };
            let collected = rt.block_on(coordinator::run(s, opts))?;
            let slo = Slo {
                max_p99_ms: args.max_p99_ms,
                max_loss: args.max_loss,
                all_acked: args.require_all_acked,
                max_signal_p99_ms: args.max_signal_p99_ms,
                signals_complete: args.require_signals_complete,
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

fn load(path: &PathBuf, set: &[String]) -> anyhow::Result<Scenario> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Scenario::parse_with(&text, set).with_context(|| format!("scenario {}", path.display()))
}
