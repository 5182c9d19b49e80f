//! `idscope fixture`: start the reference server, write its CA certificate, print where it
//! listens and which hosts it serves, and run until Ctrl-C. The server itself is
//! `crate::fixture`.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::FixtureArgs;
use crate::fixture::{self, FixtureConfig, Knobs};

/// Parses `--clock` (RFC 3339).
pub fn parse_clock(s: &str) -> anyhow::Result<std::time::SystemTime> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .with_context(|| format!("--clock {s:?} is not an RFC 3339 instant"))?;
    Ok(t.into())
}

/// The fixture configuration the flags describe.
pub fn config(args: &FixtureArgs) -> anyhow::Result<FixtureConfig> {
    if let Some(code) = args.inject_aadsts {
        anyhow::ensure!(
            fixture::state::INJECTABLE_AADSTS.contains(&code),
            "--inject-aadsts must be one of {:?}",
            fixture::state::INJECTABLE_AADSTS
        );
    }
    Ok(FixtureConfig {
        listen: args.listen,
        seed: args.seed,
        clock: args.clock.as_deref().map(parse_clock).transpose()?,
        knobs: Knobs {
            inject_aadsts: args.inject_aadsts,
            sync_redirect: args.sync_redirect,
            sync_fault: args.sync_fault,
            adfs_fail: args.adfs_fail,
            stale_nonce: args.stale_nonce,
        },
        msbin_style: if args.msbin_xmldocument {
            idscope_decoders::soap::nbfx::Style::XmlDocument
        } else {
            idscope_decoders::soap::nbfx::Style::DataContract
        },
        keytab: args
            .keytab
            .as_deref()
            .map(|p| fixture::kerberos::Keytab::read(p).context("--keytab"))
            .transpose()?,
        extended_protection: args.extended_protection,
    })
}

/// Names the sync application and its certificate's thumbprints, after writing its certificate
/// and key into `dir` when asked.
fn print_sync_app(dir: Option<&std::path::Path>) -> anyhow::Result<()> {
    use crate::testbed::{AppCertificate, SYNC_APP_CLIENT_ID, SYNC_APP_NAME};
    let cert = AppCertificate::sync_app()?;
    let hex = |b: &[u8]| idscope_decoders::util::hex_upper(b);
    println!(
        "sync application {SYNC_APP_NAME:?}: client id {SYNC_APP_CLIENT_ID}, certificate SHA-1 {}, \
         SHA-256 {}",
        hex(&cert.sha1()),
        hex(&cert.sha256())
    );
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let pem = dir.join("sync-app.pem");
        std::fs::write(&pem, cert.cert_pem())
            .with_context(|| format!("writing {}", pem.display()))?;
        let key = dir.join("sync-app.key");
        super::demo::write_private(&key, cert.key_pem().as_bytes())
            .with_context(|| format!("writing {}", key.display()))?;
        println!(
            "  certificate: {}, private key: {}",
            pem.display(),
            key.display()
        );
    }
    Ok(())
}

/// Runs `idscope fixture`.
pub fn run(args: &FixtureArgs) -> anyhow::Result<ExitCode> {
    let cfg = config(args)?;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async {
        let handle = fixture::start(cfg).await?;
        if let Some(path) = &args.ca_out {
            std::fs::write(path, handle.ca_pem())
                .with_context(|| format!("writing {}", path.display()))?;
            println!("CA certificate: {}", path.display());
        }
        print_sync_app(args.app_cert_out.as_deref())?;
        println!("idscope fixture listening on https://{}", handle.addr());
        for h in handle.hosts() {
            println!("  {h} -> {}", handle.addr());
        }
        if let Some(kt) = &handle.fixture().cfg.keytab {
            for k in kt.keys() {
                println!(
                    "keytab: {}@{} kvno {} {}",
                    k.principal,
                    k.realm,
                    k.kvno,
                    fixture::kerberos::enctype_name(k.etype)
                );
            }
        }
        println!(
            "state: https://localhost:{}/__fixture/state (Ctrl-C to stop)",
            handle.addr().port()
        );
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        handle.shutdown().await;
        anyhow::Ok(ExitCode::SUCCESS)
    })
}
