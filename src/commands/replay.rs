//! `idscope replay FILE --to fixture|origin|URL`: reads the capture, selects flows (`--filter`),
//! starts the reference server for `--to fixture` (on a runtime of its own, with the capture's
//! seed and clock), runs [`crate::replay::sequence`] and prints a table of matched / diverged / failed / refused
//! flows with the first differing path and both values, plus what replay did to each request
//! (credentials refreshed, what it could not refresh). `--json` prints one object per flow and a
//! summary object. Exit code 1 when anything diverged, failed or was refused.

use std::io::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context as _;

use crate::analysis::compare::Rules;
use crate::analysis::digest::Digest;
use crate::capture::{self, HarWriter};
use crate::cli::ReplayArgs;
use crate::filter::Subject;
use crate::flow::Flow;
use crate::flow::FlowId;
use crate::replay::sequence::{self, Options, Report, Served, Status, Target};
use idscope_decoders::util::clip;

/// Runs `idscope replay`.
pub fn run(args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let target = Target::parse(&args.to).map_err(anyhow::Error::msg)?;
    let mut rules = Rules::with_ignores(&args.ignore)
        .map_err(anyhow::Error::msg)
        .context("--ignore")?;
    rules.all = args.all;
    let clock = parse_clock(&args.clock)?;
    let maps = args
        .map
        .iter()
        .map(|m| parse_map(m))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut extra_roots = Vec::new();
    for p in &args.ca {
        extra_roots.push(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?);
    }
    let filter = match &args.filter {
        Some(t) => Some(crate::filter::parse(t).with_context(|| format!("--filter {t:?}"))?),
        None => None,
    };
    let mut reader = capture::open(&args.file)?;
    let flows = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
    // An `idscope demo` recording names the seed of the reference server it was made against.
    let recorded_seed = reader
        .creator()
        .and_then(|c| c.pointer("/_idscope/fixture_seed"))
        .and_then(serde_json::Value::as_u64);
    let seed = args.seed.or(recorded_seed);
    let selected: Vec<FlowId> = match &filter {
        None => flows.iter().map(|f| f.id).collect(),
        Some(f) => {
            let reports = sequence::decode_all(&flows);
            flows
                .iter()
                .zip(&reports)
                .filter(|(flow, rep)| {
                    let digest = Digest::of(flow, rep);
                    f.matches(&Subject {
                        flow,
                        in_flight: false,
                        digest: Some(&digest),
                        report: Some(rep),
                    })
                })
                .map(|(flow, _)| flow.id)
                .collect()
        }
    };
    if selected.is_empty() {
        anyhow::bail!(
            "{}: no flow to replay{}",
            args.file.display(),
            if filter.is_some() {
                " (nothing matches --filter)"
            } else {
                ""
            }
        );
    }
    let fixture = target == Target::Fixture;
    let mut opts = Options {
        target,
        maps,
        rules,
        served: None,
        extra_roots,
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(async {
        if !fixture {
            return sequence::run(&flows, &selected, &opts).await;
        }
        let (server, note) = OwnFixture::start(&flows, seed, clock).await?;
        opts.served = Some(server.served());
        let report = sequence::run(&flows, &selected, &opts).await;
        server.stop();
        report.map(|mut r| {
            r.notes.insert(0, note);
            r
        })
    })?;
    drop(runtime);

    if let Some(path) = &args.write {
        HarWriter::write_all(
            path,
            report.results.iter().filter_map(|r| r.replayed.as_ref()),
        )?;
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        print_json(&report, &mut out)?;
    } else {
        print_table(&report, &flows, &mut out)?;
    }
    out.flush()?;
    Ok(if report.all_matched() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The reference server's clock for `--to fixture`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// Frozen at the capture's first flow (the default: recorded times stay valid).
    #[default]
    Capture,
    /// The system clock.
    Now,
    /// Frozen at this instant.
    At(SystemTime),
}

/// The in-process reference server on a runtime of its own, so that a server handler that
/// blocks cannot stall the replay client (whose timeout then reports it).
struct OwnFixture {
    runtime: tokio::runtime::Runtime,
    handle: crate::fixture::FixtureHandle,
}

impl OwnFixture {
    /// Starts the server with `seed` and `clock` (the capture's first flow for
    /// [`Clock::Capture`]), and says so in a note for the report.
    async fn start(
        flows: &[Flow],
        seed: Option<u64>,
        clock: Clock,
    ) -> anyhow::Result<(Self, String)> {
        let clock = match clock {
            Clock::Capture => flows.iter().map(|f| f.started_at).min(),
            Clock::Now => None,
            Clock::At(t) => Some(t),
        };
        let cfg = crate::fixture::FixtureConfig {
            seed,
            clock,
            ..crate::fixture::FixtureConfig::default()
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("idscope-replay-fixture")
            .enable_all()
            .build()
            .context("starting the reference server's runtime")?;
        let handle = runtime
            .spawn(crate::fixture::start(cfg))
            .await
            .context("starting the reference server")?
            .context("starting the reference server")?;
        let note = format!(
            "reference server at {} (seed {}, clock {})",
            handle.addr(),
            seed.map_or_else(|| "random".to_string(), |n| n.to_string()),
            clock.map_or_else(|| "live".to_string(), rfc3339)
        );
        Ok((OwnFixture { runtime, handle }, note))
    }

    /// What replay needs to know of the server: its address, hosts and CA.
    fn served(&self) -> Served {
        Served {
            addr: self.handle.addr(),
            hosts: self.handle.hosts(),
            ca_pem: self.handle.ca_pem().as_bytes().to_vec(),
        }
    }

    fn stop(self) {
        let OwnFixture { runtime, handle } = self;
        runtime.spawn(handle.shutdown());
        runtime.shutdown_background();
    }
}

fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn parse_clock(s: &str) -> anyhow::Result<Clock> {
    Ok(match s {
        "capture" => Clock::Capture,
        "now" => Clock::Now,
        t => {
            let at = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .with_context(|| format!("--clock {t:?}: expected capture, now or RFC 3339"))?;
            Clock::At(at.into())
        }
    })
}

/// `HOST=ADDR:PORT` (HOST may carry a port, which is ignored: the mapping is by host name).
pub fn parse_map(m: &str) -> anyhow::Result<(String, SocketAddr)> {
    let (host, addr) = m
        .split_once('=')
        .with_context(|| format!("--map {m}: expected HOST=ADDR:PORT"))?;
    let host = host.trim();
    let host = match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => h,
        _ => host,
    };
    anyhow::ensure!(!host.is_empty(), "--map {m}: expected HOST=ADDR:PORT");
    let addr: SocketAddr = match addr.trim().parse() {
        Ok(a) => a,
        Err(_) => addr
            .trim()
            .to_socket_addrs()
            .ok()
            .and_then(|mut it| it.next())
            .with_context(|| format!("--map {m}: {addr:?} is not ADDR:PORT"))?,
    };
    Ok((host.to_ascii_lowercase(), addr))
}

fn print_table(
    report: &Report,
    flows: &[Flow],
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    for n in &report.notes {
        writeln!(out, "{n}")?;
    }
    writeln!(
        out,
        "{:>5}  {:<7} {:<30} {:<36} {:<9} DETAIL",
        "#", "METHOD", "HOST", "PATH", "RESULT"
    )?;
    for r in &report.results {
        let (host, path) = flows
            .iter()
            .find(|f| f.id == r.flow)
            .map(|f| (f.host(), f.path_and_query().to_string()))
            .unwrap_or_default();
        let detail = match r.status {
            Status::Matched => match r.statuses {
                Some((a, _)) => format!("{a}"),
                None => String::new(),
            },
            Status::Diverged => {
                let more = r.difference_count.saturating_sub(1);
                let first = r.first().map(|d| d.describe()).unwrap_or_default();
                if more > 0 {
                    format!("{first} (+{more} more)")
                } else {
                    first
                }
            }
            Status::Failed | Status::Refused => r.reason.clone().unwrap_or_default(),
        };
        let role = r
            .role
            .as_deref()
            .map(|x| format!("[{x}] "))
            .unwrap_or_default();
        writeln!(
            out,
            "{:>5}  {:<7} {:<30} {:<36} {:<9} {role}{detail}",
            r.flow.0 + 1,
            clip(&r.method, 7),
            clip(&host, 30),
            clip(&path, 36),
            r.status.as_str(),
        )?;
        for n in &r.notes {
            writeln!(out, "{:>5}  note: {n}", "")?;
        }
    }
    writeln!(
        out,
        "{} replayed: {} matched, {} diverged, {} failed, {} refused",
        report.results.len(),
        report.count(Status::Matched),
        report.count(Status::Diverged),
        report.count(Status::Failed),
        report.count(Status::Refused),
    )
}

fn print_json(report: &Report, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    for r in &report.results {
        serde_json::to_writer(&mut *out, r)?;
        writeln!(out)?;
    }
    let summary = serde_json::json!({
        "summary": {
            "replayed": report.results.len(),
            "matched": report.count(Status::Matched),
            "diverged": report.count(Status::Diverged),
            "failed": report.count(Status::Failed),
            "refused": report.count(Status::Refused),
            "notes": report.notes,
        }
    });
    serde_json::to_writer(&mut *out, &summary)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_and_clocks_parse() {
        let (h, a) = parse_map("Login.Example:443=127.0.0.1:9443").unwrap();
        assert_eq!(h, "login.example");
        assert_eq!(a, SocketAddr::from(([127, 0, 0, 1], 9443)));
        assert!(parse_map("nohost").is_err());
        assert!(parse_map("h=notanaddr").is_err());
        assert_eq!(parse_clock("now").unwrap(), Clock::Now);
        assert!(matches!(
            parse_clock("2024-01-01T00:00:00Z").unwrap(),
            Clock::At(_)
        ));
        assert!(parse_clock("yesterday").is_err());
    }
}
