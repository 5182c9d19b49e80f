//! `idscope decode`: one blob in (a file or standard input), every interpretation out. The blob is
//! auto-detected through the decoder registry, or forced with `--as KIND`. Secrets are masked
//! unless `--show-secrets`. Undecodable input is an input error (exit 2) that says what was tried.

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context as _, bail};
use idscope_decoders::{Context, Limits, Message, Outcome, Registry};

use super::render::{mask_outcomes, write_decoded};
use crate::cli::DecodeArgs;

/// Largest blob `decode` reads.
const MAX_INPUT: u64 = 64 << 20;

/// Runs `idscope decode`.
pub fn run(args: &DecodeArgs) -> anyhow::Result<ExitCode> {
    let trust = super::load_user_trust(&args.decode)?;
    let raw = read_input(&args.input)?;
    let blob = raw.trim_ascii();
    anyhow::ensure!(
        !blob.is_empty(),
        "{}: the input is empty",
        input_name(&args.input)
    );
    // A blob has no capture time: expiry is judged against the real clock here, at the edge.
    let cx = Context::new(SystemTime::now(), &trust).with_limits(Limits::default());
    let registry = Registry::builtin();
    let msg = Message::blob(blob);

    let mut outcomes: Vec<Outcome> = match &args.kind {
        Some(kind) => {
            let Some(d) = registry.get(kind) else {
                let known: Vec<&str> = registry.ids().collect();
                bail!("unknown decoder `{kind}`; known: {}", known.join(", "));
            };
            let result = d.decode(&msg, &cx);
            if let Err(e) = &result {
                bail!("{}: cannot decode as {kind}: {e}", input_name(&args.input));
            }
            vec![Outcome {
                decoder: d.id(),
                priority: 1.0,
                result,
            }]
        }
        None => {
            let all = registry.decode_all(&msg, &cx);
            let ok: Vec<Outcome> = all.iter().filter(|o| o.result.is_ok()).cloned().collect();
            if ok.is_empty() {
                let tried: Vec<String> = all
                    .iter()
                    .filter_map(|o| {
                        o.result
                            .as_ref()
                            .err()
                            .map(|e| format!("{}: {e}", o.decoder))
                    })
                    .collect();
                bail!(
                    "{}: not recognised as any known format ({} bytes){}",
                    input_name(&args.input),
                    blob.len(),
                    if tried.is_empty() {
                        String::new()
                    } else {
                        format!("; tried {}", tried.join("; "))
                    }
                );
            }
            ok
        }
    };
    if !args.decode.show_secrets {
        mask_outcomes(&mut outcomes);
    }
    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &outcomes)?;
        writeln!(stdout)?;
    } else {
        let mut text = String::new();
        for o in &outcomes {
            if let Ok(d) = &o.result {
                write_decoded(&mut text, d, 0);
            }
        }
        stdout.write_all(text.as_bytes())?;
    }
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn input_name(input: &str) -> &str {
    if input == "-" {
        "standard input"
    } else {
        input
    }
}

fn read_input(input: &str) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let n = if input == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_INPUT + 1)
            .read_to_end(&mut buf)
    } else {
        std::fs::File::open(input)
            .with_context(|| format!("opening {input}"))?
            .take(MAX_INPUT + 1)
            .read_to_end(&mut buf)
    }
    .with_context(|| format!("reading {}", input_name(input)))?;
    anyhow::ensure!(
        n as u64 <= MAX_INPUT,
        "{}: larger than {MAX_INPUT} bytes",
        input_name(input)
    );
    Ok(buf)
}
