//! The `convene` binary: `serve` (the default) and the auditor's commands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use convene::audit::{self, Until};
use convene::config::Config;
use convene::domain::parse_iso8601;
use convene::startup::log_config;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "convene",
    version,
    about = "A self-hostable video-meeting backend"
)]
struct Cli {
    /// A config file layered over the built-in defaults (default: ./config.toml if present).
    #[arg(long, global = true, env = "CONVENE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (what `convene` does with no subcommand).
    Serve,
    /// Inspect the event log. Needs the data directory to itself: stop the server first.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the SHA-256 chain over every event; exit 1 at the first broken sequence.
    Verify {
        /// Data directory (default: storage.path from the config).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Print a meeting's events and its reconstructed state, as JSON.
    Meeting {
        /// The meeting id, e.g. abc-defg-hij.
        id: String,
        /// Replay only events accepted at or before this RFC 3339 time.
        #[arg(long, conflicts_with = "seq")]
        at: Option<String>,
        /// Replay only events up to this global sequence.
        #[arg(long)]
        seq: Option<u64>,
        #[arg(long)]
        data: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let file = cli.config.clone().or_else(|| {
        let local = PathBuf::from("config.toml");
        local.exists().then_some(local)
    });
    let config = match Config::load(file.as_deref()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("convene: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => runtime.block_on(serve(config)),
        Command::Audit(command) => runtime.block_on(run_audit(config, command)),
    }
}

async fn serve(config: Config) -> ExitCode {
    let addr = config.listen_addr();
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("convene: cannot listen on {addr}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match convene::run(listener, config, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("convene: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run_audit(mut config: Config, command: AuditCommand) -> ExitCode {
    let mut data_dir = |data: Option<PathBuf>| {
        if let Some(dir) = data {
            config.storage.path = dir;
        }
        if !config.storage.path.exists() {
            eprintln!(
                "convene: no data directory at {}",
                config.storage.path.display()
            );
            return None;
        }
        Some(log_config(&config))
    };
    match command {
        AuditCommand::Verify { data } => {
            let Some(log) = data_dir(data) else {
                return ExitCode::FAILURE;
            };
            match audit::verify(log).await {
                Ok(checked) => {
                    println!("verified {checked} events: hash chain intact");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("convene: {err}");
                    ExitCode::FAILURE
                }
            }
        }
        AuditCommand::Meeting { id, at, seq, data } => {
            let until = match (at, seq) {
                (Some(at), _) => match parse_iso8601(&at) {
                    Ok(ms) => Until::At(ms),
                    Err(err) => {
                        eprintln!("convene: --at {err}");
                        return ExitCode::from(2);
                    }
                },
                (None, Some(seq)) => Until::Seq(seq),
                (None, None) => Until::End,
            };
            let Some(log) = data_dir(data) else {
                return ExitCode::FAILURE;
            };
            match audit::meeting(log, &id, until).await {
                Ok(report) => {
                    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("convene: {err}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
