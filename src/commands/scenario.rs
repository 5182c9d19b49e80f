//! `idscope scenario run`: play the scripted scenarios (`crate::scenario`) against a fixture
//! given by address (`--connect`), through a proxy (`--proxy`), or against a fixture started in
//! this process when neither is given. Exit code 1 names the failed step.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::ScenarioRunArgs;
use crate::fixture::{self, FixtureConfig};
use crate::scenario::{self, Scenario, ScenarioConfig, Target};
use crate::testbed::HOSTS;

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
                    .map(|h| (h.to_string(), addr))
                    .collect::<BTreeMap<_, _>>(),
            )
        };
        let cfg = ScenarioConfig {
            target,
            ca_pems,
            print: true,
            device_seed: None,
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
