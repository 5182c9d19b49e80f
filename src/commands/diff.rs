//! `idscope diff A B`: two flows (`FILE#N`, 1-based, from one capture or two), two tokens or
//! two assertions (a file holding one, or the value itself), compared with [`crate::diff`].
//! Prints one line per difference (`path: "a" ≠ "b"`), or one JSON object per difference with
//! `--json`; exit code 1 when there are differences.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::analysis::compare::{Difference, Rules};
use crate::cli::DiffArgs;
use crate::flow::Flow;

/// One side of a diff.
#[derive(Debug)]
enum Side {
    Flow(Box<Flow>),
    Blob(Vec<u8>),
}

/// Runs `idscope diff`.
pub fn run(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let mut rules = Rules::with_ignores(&args.ignore)
        .map_err(anyhow::Error::msg)
        .context("--ignore")?;
    rules.all = args.all;
    let a = load(&args.a)?;
    let b = load(&args.b)?;
    let diffs = match (&a, &b) {
        (Side::Flow(x), Side::Flow(y)) => crate::diff::flows_decoded(x, y, &rules),
        (Side::Blob(x), Side::Blob(y)) => {
            let now = std::time::SystemTime::now();
            let dx = crate::diff::decode_blob(x, now)
                .with_context(|| format!("{}: not a token or assertion idscope decodes", args.a))?;
            let dy = crate::diff::decode_blob(y, now)
                .with_context(|| format!("{}: not a token or assertion idscope decodes", args.b))?;
            crate::diff::blobs(&dx, &dy, &rules)
        }
        _ => anyhow::bail!("cannot compare a flow with a token: give two FILE#N or two tokens"),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        for d in &diffs {
            serde_json::to_writer(&mut out, d)?;
            writeln!(out)?;
        }
    } else {
        for d in &diffs {
            writeln!(out, "{}", line(d))?;
        }
        let real = diffs.iter().filter(|d| !d.volatile).count();
        writeln!(
            out,
            "{real} difference(s){}",
            if rules.all {
                format!(", {} volatile", diffs.len() - real)
            } else {
                " (volatile values left out; --all shows them)".to_string()
            }
        )?;
    }
    out.flush()?;
    Ok(if diffs.iter().any(|d| !d.volatile) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn line(d: &Difference) -> String {
    let mark = if d.volatile { "~ " } else { "  " };
    format!("{mark}{}", d.describe())
}

/// `FILE#N` → that flow; an existing file → its bytes; anything else → the text itself.
fn load(spec: &str) -> anyhow::Result<Side> {
    if let Some((file, n)) = spec.rsplit_once('#')
        && let Ok(n) = n.parse::<u64>()
        && Path::new(file).is_file()
    {
        anyhow::ensure!(n >= 1, "{spec}: flows are numbered from 1");
        let flow = crate::capture::open(Path::new(file))?
            .filter_map(Result::ok)
            .find(|f| f.id.0 + 1 == n)
            .with_context(|| format!("{spec}: {file} has no flow #{n}"))?;
        return Ok(Side::Flow(Box::new(flow)));
    }
    let p = Path::new(spec);
    if p.is_file() {
        return Ok(Side::Blob(
            std::fs::read(p).with_context(|| format!("reading {spec}"))?,
        ));
    }
    Ok(Side::Blob(spec.as_bytes().to_vec()))
}
