//! The `convene` binary: `serve` (the default) and the auditor's commands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use convene::audit::{self, Until};
use convene::config::Config;
use convene::config::LogFormat;
use convene::domain::parse_iso8601;
use convene::startup::log_config;
use tracing_subscriber::EnvFilter;

// glibc's malloc took half of a projection rebuild's time (its consolidation and free lists);
// mimalloc made the same rebuild over twice as fast (BENCHMARKS.md, issue 5).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Manage the read models. Needs the data directory to itself: stop the server first.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
}

#[derive(Subcommand)]
enum ProjectionsCommand {
    /// Drop read models and fold them again from sequence 1; says for each whether the result
    /// equals what it replaced (exit 1 if any differed).
    Rebuild {
        /// Only this one (meeting_directory, accounts_directory, time_index, history,
        /// event_feed).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        data: Option<PathBuf>,
    },
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
    /// Write a meeting's events to FILE, signed with the server's audit key (HMAC-SHA256).
    Export {
        /// The meeting id, e.g. abc-defg-hij.
        id: String,
        /// Where to write the export (JSON).
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Verify an export against the audit key; exit 1 if it was changed or signed with
    /// another key.
    Check {
        /// The export to verify.
        file: PathBuf,
        #[arg(long)]
        data: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    init_logging(config.log.format);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => runtime.block_on(serve(config)),
        Command::Audit(command) => runtime.block_on(run_audit(config, command)),
        Command::Projections(command) => runtime.block_on(run_projections(config, command)),
    }
}

/// Logs on stderr: text for people, or one JSON object per line (`log.format = "json"`,
/// `CONVENE_LOG_FORMAT=json`), each line of a request with its request span (id, method, path).
fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
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
    // SIGINT (Ctrl-C) or SIGTERM (what service managers and container runtimes send) stops
    // the server cleanly: see `convene::net::server::Server::serve`.
    let shutdown = async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("a SIGTERM handler can be installed");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("stop requested");
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
        AuditCommand::Export { id, out, data } => {
            let Some(log) = data_dir(data) else {
                return ExitCode::FAILURE;
            };
            let exported = match audit::audit_key(&config) {
                Ok(key) => audit::export(log, &key, &id, now_ms()).await,
                Err(err) => Err(err),
            };
            let written = exported.and_then(|export| {
                let text = serde_json::to_string_pretty(&export).expect("json");
                std::fs::write(&out, text + "\n").map_err(|e| {
                    audit::AuditError::Input(format!("cannot write {}: {e}", out.display()))
                })?;
                Ok(export["export"]["events"].as_array().map_or(0, Vec::len))
            });
            match written {
                Ok(events) => {
                    println!(
                        "exported {events} events of meeting {id} to {}",
                        out.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("convene: {err}");
                    ExitCode::FAILURE
                }
            }
        }
        AuditCommand::Check { file, data } => {
            if let Some(dir) = data {
                config.storage.path = dir;
            }
            let checked = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))
                .and_then(|text| {
                    serde_json::from_str(&text)
                        .map_err(|e| format!("{} is not JSON: {e}", file.display()))
                })
                .and_then(|export| {
                    let key = audit::audit_key(&config).map_err(|e| e.to_string())?;
                    audit::check(&key, &export).map_err(|e| e.to_string())
                });
            match checked {
                Ok(events) => {
                    println!("intact: {events} events, signed with this server's audit key");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("convene: {err}");
                    ExitCode::FAILURE
                }
            }
        }
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

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

async fn run_projections(mut config: Config, command: ProjectionsCommand) -> ExitCode {
    let ProjectionsCommand::Rebuild { name, data } = command;
    if let Some(dir) = data {
        config.storage.path = dir;
    }
    if !config.storage.path.exists() {
        eprintln!(
            "convene: no data directory at {}",
            config.storage.path.display()
        );
        return ExitCode::FAILURE;
    }
    let bars = indicatif::MultiProgress::new();
    let style = indicatif::ProgressStyle::with_template(
        "{prefix:>20} [{bar:40}] {pos}/{len} events ({per_sec}, {eta})",
    )
    .expect("a valid template")
    .progress_chars("=> ");
    let mut current: Option<(String, indicatif::ProgressBar)> = None;
    let mut progress = |name: &str, folded: u64, total: u64| {
        if current.as_ref().is_none_or(|(shown, _)| shown != name) {
            if let Some((_, bar)) = current.take() {
                bar.finish();
            }
            let bar = bars.add(indicatif::ProgressBar::new(total));
            bar.set_style(style.clone());
            bar.set_prefix(name.to_owned());
            current = Some((name.to_owned(), bar));
        }
        if let Some((_, bar)) = &current {
            bar.set_position(folded);
        }
    };
    let result =
        audit::rebuild_projections(log_config(&config), name.as_deref(), &mut progress).await;
    if let Some((_, bar)) = current {
        bar.finish();
    }
    match result {
        Ok(reports) => {
            if let Some(first) = reports.first() {
                let seconds = first.took.as_secs_f64();
                eprintln!(
                    "folded {} events into {} read models in {seconds:.2} s: {:.0} events/s",
                    first.events,
                    reports.len(),
                    first.events as f64 / seconds.max(1e-9)
                );
            }
            let mut all_equal = true;
            for report in reports {
                all_equal &= report.equal;
                let verdict = if report.equal {
                    "equal to the live read model"
                } else {
                    "DIFFERS from the live read model it replaced"
                };
                println!(
                    "{}: {} events folded, {verdict}",
                    report.name, report.events
                );
            }
            if all_equal {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            eprintln!("convene: {err}");
            ExitCode::FAILURE
        }
    }
}
