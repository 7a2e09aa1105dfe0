//! The `gateway` binary: `serve` (the default) runs a node; `token` mints a
//! viewer token with the configured secret.

use std::io::IsTerminal;

use clap::{Parser, Subcommand};
use gateway::auth::TokenKeys;
use gateway::{ServeArgs, Settings};

#[derive(Parser)]
#[command(name = "gateway", version, about = "Live-room interaction gateway")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

// Parsed once at start: the size of `ServeArgs` does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run a gateway node (the default).
    Serve(ServeArgs),
    /// Print a viewer token signed with the configured secret.
    Token(TokenArgs),
    /// Print every setting at its default as a TOML file.
    ConfigDefaults,
}

#[derive(clap::Args)]
struct TokenArgs {
    /// User id.
    #[arg(long)]
    user: String,
    /// Nickname.
    #[arg(long, default_value = "")]
    name: String,
    /// The user passed real-name verification.
    #[arg(long)]
    real_name: bool,
    /// Validity in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl: u64,
    /// TOML file of the node (its `token_secret` is used).
    #[arg(long, env = "GATEWAY_CONFIG")]
    config: Option<std::path::PathBuf>,
    /// HS256 secret of viewer tokens, as the node has it.
    #[arg(long, env = "GATEWAY_TOKEN_SECRET", hide_env_values = true)]
    token_secret: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Token(t)) => token(t),
        Some(Command::Serve(s)) => serve(s),
        Some(Command::ConfigDefaults) => {
            print!("{}", Settings::defaults_toml());
            Ok(())
        }
        None => serve(cli.serve),
    }
}

fn token(t: TokenArgs) -> anyhow::Result<()> {
    let settings = Settings::load(ServeArgs {
        config: t.config,
        token_secret: t.token_secret,
        ..ServeArgs::default()
    })?;
    anyhow::ensure!(
        !settings.token_secret.is_empty(),
        "no token secret configured: pass --token-secret or set GATEWAY_TOKEN_SECRET \
         (or load the file `gateway serve` wrote its generated one to)"
    );
    let limits = settings.limits();
    limits
        .check_id("user", &t.user)
        .map_err(|r| anyhow::anyhow!(r.message))?;
    limits
        .check_nick(&t.name)
        .map_err(|r| anyhow::anyhow!(r.message))?;
    let keys = TokenKeys::with_policy(settings.token_secret.as_bytes(), settings.token_policy());
    let now = gateway::clock::now_ms() as u64 / 1000;
    println!("{}", keys.mint(&t.user, &t.name, t.real_name, now, t.ttl)?);
    Ok(())
}

/// How this binary was started (argv[0], else its path), for hints to
/// copy: `gateway` is not necessarily on PATH.
fn invocation() -> String {
    let exe = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .filter(|p| !p.as_os_str().is_empty())
        .or_else(|| std::env::current_exe().ok())
        .map_or_else(|| "gateway".to_string(), |p| p.display().to_string());
    if exe.contains(|c: char| c.is_whitespace() || c == '\'') {
        format!("'{}'", exe.replace('\'', r"'\''"))
    } else {
        exe
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut settings = Settings::load(args)?;
    init_tracing(&settings.log_format);
    let generated = gateway::fill_generated(&mut settings);
    let secrets_file = match generated.is_empty() {
        true => None,
        false => Some(gateway::secrets::write(&settings, &generated)?),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let running = gateway::start(settings).await?;
        if let Some(path) = secrets_file {
            print_secrets_hint(&path, &generated, running.addr);
        }
        println!("gateway listening on ws://{}/ws", running.addr);
        wait_for_signal().await;
        // A second signal cuts the drain short.
        tokio::select! {
            () = running.drain() => {}
            () = wait_for_signal() => tracing::warn!("second signal: drain cut short"),
        }
        tracing::info!("shutting down");
        running.shutdown().await;
        anyhow::Ok(())
    })
}

/// Tells how to use the generated secrets without printing them: stdout
/// may be collected with the logs.
fn print_secrets_hint(path: &std::path::Path, generated: &[&str], addr: std::net::SocketAddr) {
    let path = path.display();
    println!(
        "Generated {} for this run, written to {path} (mode 0600), not printed.\n  \
         Load them:           set -a; . {path}; set +a",
        generated.join(", ")
    );
    if generated.contains(&"token_secret") {
        println!(
            "  Mint a viewer token: {} token --user alice --name Alice",
            invocation()
        );
    }
    if generated.contains(&"admin_key") {
        println!(
            "  Call the admin API:  \
             curl -H \"Authorization: Bearer $GATEWAY_ADMIN_KEY\" http://{addr}/api/rooms"
        );
    }
    if generated.contains(&"lottery_key") {
        println!(
            "  Lottery records of this run verify only against its generated lottery key; \
             give every node of a cluster the same GATEWAY_LOTTERY_KEY."
        );
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Logs go to stderr, so stdout carries only what the binary prints for
/// people; colours only when stderr is a terminal.
fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
