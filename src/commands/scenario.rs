//! `idscope scenario run`: play the scripted scenarios (`crate::scenario`) against a fixture
//! given by address (`--connect`), through a proxy (`--proxy`), or against a fixture started in
//! this process when neither is given. Exit code 1 names the failed step. With `--device-seed`
//! the PRT scenarios' device keys come from the seed, and `--transport-key-out` writes their
//! transport keys for `idscope analyze --key`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::ScenarioRunArgs;
use crate::fixture::{self, FixtureConfig};
use crate::scenario::{self, Scenario, ScenarioConfig, Target};
use crate::testbed::{AGENT_HOSTS, HOSTS};

/// Runs `idscope scenario run`.
pub fn run(args: &ScenarioRunArgs) -> anyhow::Result<ExitCode> {
    let names = args
        .names
        .iter()
        .map(|n| {
            Scenario::parse(n).with_context(|| {
                let all: Vec<_> = Scenario::NAMED.iter().map(|s| s.name()).collect();
                format!("unknown scenario {n:?} (known: {})", all.join(", "))
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if let (Some(path), Some(seed)) = (&args.transport_key_out, args.device_seed) {
        let pem = format!(
            "{}{}",
            scenario::prt_sso::transport_key_pem(seed)?,
            scenario::prt_ec::transport_key_pem(seed)?
        );
        super::demo::write_private(path, pem.as_bytes())
            .with_context(|| format!("writing the transport keys to {}", path.display()))?;
    }
    let mut ca_pems = Vec::new();
    for p in &args.ca {
        ca_pems
            .push(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?);
    }
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async {
        let mut local = None;
        let target = if let Some(proxy) = &args.proxy {
            Target::Proxy(proxy.clone())
        } else {
            let addr = match args.connect {
                Some(a) => a,
                None => {
                    let h = fixture::start(FixtureConfig::default()).await?;
                    ca_pems.push(h.ca_pem().to_string());
                    let a = h.addr();
                    println!("started an in-process fixture on {a}");
                    local = Some(h);
                    a
                }
            };
            Target::Direct(
                HOSTS
                    .iter()
                    .chain(AGENT_HOSTS)
                    .map(|h| (h.to_string(), addr))
                    .collect::<BTreeMap<_, _>>(),
            )
        };
        let cfg = ScenarioConfig {
            target,
            ca_pems,
            print: true,
            device_seed: args.device_seed,
        };
        let result = scenario::run(&names, &cfg).await;
        if let Some(h) = local {
            h.shutdown().await;
        }
        match result {
            Ok(report) => {
                println!("all {} steps passed", report.steps.len());
                anyhow::Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("idscope: {e}");
                Ok(ExitCode::from(1))
            }
        }
    })
}
