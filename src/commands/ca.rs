//! `idscope ca init|show|export|trust-help`: the interception CA from the user's point of view.
//! The store itself (creation, permissions, parsing) is `proxy::ca`; this file prints and writes
//! the public certificate and the per-platform trust steps (the same steps as `ca/README.md`).
//! Nothing here ever reads out or prints the private key.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{CaArgs, CaCommand, TrustTarget};
use crate::proxy::ca::{self, CaStore};

/// Runs `idscope ca …`.
pub fn run(args: &CaArgs) -> anyhow::Result<ExitCode> {
    let dir = ca::default_dir(args.ca_dir.as_deref())?;
    match &args.command {
        CaCommand::Init => {
            let store = CaStore::init(&dir)?;
            println!("Created the idscope CA in {}", dir.display());
            print_info(&store)?;
            println!(
                "\nNext: idscope ca trust-help --target \
                 linux|macos|windows|firefox|chrome-linux|java|aadconnect"
            );
        }
        CaCommand::Show => {
            let store = CaStore::load(&dir)?;
            print_info(&store)?;
        }
        CaCommand::Export { der, output } => {
            let store = CaStore::load(&dir)?;
            let bytes: Vec<u8> = if *der {
                store.cert_der().to_vec()
            } else {
                store.cert_pem().as_bytes().to_vec()
            };
            match output {
                Some(p) => {
                    std::fs::write(p, &bytes).with_context(|| format!("writing {}", p.display()))?
                }
                None => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(&bytes)?;
                    out.flush()?;
                }
            }
        }
        CaCommand::TrustHelp { target, proxy } => {
            print!("{}", trust_help(*target, &dir, proxy));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_info(store: &CaStore) -> anyhow::Result<()> {
    let info = store.info()?;
    println!("Subject:     {}", info.subject);
    println!("Valid from:  {}", info.not_before);
    println!("Valid until: {}", info.not_after);
    println!("SHA-1:       {}", info.sha1);
    println!("SHA-256:     {}", info.sha256);
    println!("Certificate: {}", store.cert_path().display());
    println!(
        "Private key: {} (mode 0600; never copy it anywhere)",
        store.dir().join(ca::KEY_FILE).display()
    );
    Ok(())
}

/// The exact steps for one client platform. `dir` is the CA directory; `proxy` the HOST:PORT
/// clients should use. The SHA-1 thumbprint is filled in when the CA exists.
pub fn trust_help(target: TrustTarget, dir: &Path, proxy: &str) -> String {
    let pem = dir.join(ca::CERT_FILE);
    let pem_s = pem.display().to_string();
    let thumb = std::fs::read_to_string(&pem)
        .ok()
        .and_then(|p| {
            use rustls::pki_types::pem::PemObject;
            rustls::pki_types::CertificateDer::from_pem_slice(p.as_bytes()).ok()
        })
        .and_then(|der| ca::cert_info(&der).ok())
        .map(|i| i.sha1.replace(':', ""));
    let missing = if thumb.is_none() {
        format!(
            "# No CA in {} yet: run `idscope ca init` first (or start `idscope proxy` once).\n\n",
            dir.display()
        )
    } else {
        String::new()
    };
    let thumb = thumb.unwrap_or_else(|| "<SHA-1 from `idscope ca show`>".into());
    let body = match target {
        TrustTarget::Linux => format!(
            "# Trust the idscope CA system-wide on Linux (curl, wget, Python requests via certifi\n\
             # excepted: set REQUESTS_CA_BUNDLE for those).\n\
             # Debian / Ubuntu:\n\
             sudo cp {pem_s} /usr/local/share/ca-certificates/idscope-ca.crt\n\
             sudo update-ca-certificates\n\
             # Fedora / RHEL / CentOS:\n\
             sudo cp {pem_s} /etc/pki/ca-trust/source/anchors/idscope-ca.pem\n\
             sudo update-ca-trust\n\
             # Use the proxy in this shell:\n\
             export HTTP_PROXY=http://{proxy} HTTPS_PROXY=http://{proxy}\n\
             export http_proxy=$HTTP_PROXY https_proxy=$HTTPS_PROXY\n\
             # Or per command:  curl -x http://{proxy} --cacert {pem_s} https://example.com/\n\
             # Remove afterwards:\n\
             sudo rm -f /usr/local/share/ca-certificates/idscope-ca.crt && sudo update-ca-certificates --fresh\n\
             sudo rm -f /etc/pki/ca-trust/source/anchors/idscope-ca.pem && sudo update-ca-trust\n\
             # (ca/trust-linux.sh does the same.)\n"
        ),
        TrustTarget::Macos => format!(
            "# Trust the idscope CA in the macOS System keychain (asks for an admin password):\n\
             sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {pem_s}\n\
             # Use the proxy (replace Wi-Fi with your network service: networksetup -listallnetworkservices):\n\
             networksetup -setwebproxy Wi-Fi {host} {port}\n\
             networksetup -setsecurewebproxy Wi-Fi {host} {port}\n\
             # Remove afterwards:\n\
             networksetup -setwebproxystate Wi-Fi off; networksetup -setsecurewebproxystate Wi-Fi off\n\
             sudo security delete-certificate -Z {thumb} /Library/Keychains/System.keychain\n\
             # (ca/trust-macos.sh does the same.)\n",
            host = split_host(proxy).0,
            port = split_host(proxy).1,
        ),
        TrustTarget::Windows => format!(
            "# On the analyst machine: export the certificate ({pem_s}) as DER for Windows\n\
             idscope ca export --der -o idscope-ca.cer\n\
             # On Windows, in an elevated PowerShell (copy idscope-ca.cer to C:\\idscope first):\n\
             Import-Certificate -FilePath C:\\idscope\\idscope-ca.cer -CertStoreLocation Cert:\\LocalMachine\\Root\n\
             # Check the thumbprint matches {thumb}:\n\
             Get-ChildItem Cert:\\LocalMachine\\Root | Where-Object Thumbprint -eq '{thumb}'\n\
             # WinHTTP clients (services, PowerShell's Invoke-WebRequest uses the user setting):\n\
             netsh winhttp set proxy {proxy} \"<local>\"\n\
             # Remove afterwards:\n\
             netsh winhttp reset proxy\n\
             Get-ChildItem Cert:\\LocalMachine\\Root | Where-Object Thumbprint -eq '{thumb}' | Remove-Item\n\
             # (ca/Import-IdscopeCA.ps1 does the import and the check.)\n"
        ),
        TrustTarget::Firefox => format!(
            "# Firefox keeps its own trust store. Either enterprise policy (all profiles):\n\
             #   Linux: /etc/firefox/policies/policies.json   macOS: Firefox.app/Contents/Resources/distribution/policies.json\n\
             #   Windows: C:\\Program Files\\Mozilla Firefox\\distribution\\policies.json\n\
             {{\"policies\": {{\"Certificates\": {{\"Install\": [\"{pem_s}\"]}},\n\
             \x20              \"Proxy\": {{\"Mode\": \"manual\", \"HTTPProxy\": \"{proxy}\", \"SSLProxy\": \"{proxy}\"}}}}}}\n\
             # or by hand: Settings > Privacy & Security > Certificates > View Certificates >\n\
             #   Authorities > Import… > {pem_s} > tick \"Trust this CA to identify websites\";\n\
             #   Settings > Network Settings > Manual proxy: HTTP {proxy}, \"Also use this proxy for HTTPS\".\n\
             # Remove afterwards: delete the policy entries, or Authorities > \"idscope\" > Delete.\n"
        ),
        TrustTarget::ChromeLinux => chrome_linux(&sh_quote(&pem_s), proxy),
        TrustTarget::Java => java(&sh_quote(&pem_s), proxy),
        TrustTarget::Aadconnect => format!(
            "# AAD Connect (the ADSync service, .NET Framework) ignores the user's proxy settings: it\n\
             # reads <defaultProxy> from machine.config, and trusts the machine Root store.\n\
             # .NET cannot send Basic proxy credentials from machine.config, so keep idscope on\n\
             # loopback: run it on the server itself, or forward a port from the server to it:\n\
             #   ssh -N -L {proxy}:127.0.0.1:{port} you@analyst-box   (then `idscope record` there)\n\
             #\n\
             # 1. Trust the CA (elevated PowerShell on the AAD Connect server):\n\
             #      idscope ca export --der -o idscope-ca.cer   (on the analyst machine, then copy;\n\
             #      the certificate is {pem_s})\n\
             Import-Certificate -FilePath C:\\idscope\\idscope-ca.cer -CertStoreLocation Cert:\\LocalMachine\\Root\n\
             #\n\
             # 2. Add this section inside <configuration> (just before </configuration>) in BOTH\n\
             #      C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\Config\\machine.config\n\
             #      C:\\Windows\\Microsoft.NET\\Framework\\v4.0.30319\\Config\\machine.config\n\
             #    (keep a copy of each file first):\n\
             <system.net>\n\
             \x20 <defaultProxy enabled=\"true\" useDefaultCredentials=\"true\">\n\
             \x20   <proxy usesystemdefault=\"false\" proxyaddress=\"http://{proxy}\" bypassonlocal=\"true\" />\n\
             \x20 </defaultProxy>\n\
             </system.net>\n\
             #\n\
             # 3. Restart the sync service and run a sync; the traffic shows up in idscope:\n\
             Restart-Service ADSync\n\
             Start-ADSyncSyncCycle -PolicyType Delta\n\
             #\n\
             # 4. Undo: restore both machine.config files, Restart-Service ADSync, and\n\
             Get-ChildItem Cert:\\LocalMachine\\Root | Where-Object Thumbprint -eq '{thumb}' | Remove-Item\n\
             # (ca/aadconnect-machine.config.xml and ca/Import-IdscopeCA.ps1 hold the same.)\n",
            port = split_host(proxy).1,
        ),
    };
    format!("{missing}{body}")
}

/// Chrome and Chromium on Linux: the user's NSS database. `pem` is quoted for the shell.
fn chrome_linux(pem: &str, proxy: &str) -> String {
    format!(
        "# Chrome and Chromium on Linux do not read the system store: they trust the NSS database\n\
         # sql:$HOME/.pki/nssdb of the user running them (the snap Chromium:\n\
         # $HOME/snap/chromium/current/.pki/nssdb). certutil is in the package libnss3-tools\n\
         # (Debian/Ubuntu; Fedora/RHEL: nss-tools):\n\
         sudo apt-get install libnss3-tools\n\
         # Create the database if it is missing (Chrome creates it on its first start):\n\
         mkdir -p $HOME/.pki/nssdb\n\
         test -f $HOME/.pki/nssdb/cert9.db || certutil -d sql:$HOME/.pki/nssdb -N --empty-password\n\
         # Add the idscope CA, trusted to identify servers (\"C,,\"):\n\
         certutil -d sql:$HOME/.pki/nssdb -A -t \"C,,\" -n idscope -i {pem}\n\
         # Check: the list shows `idscope  C,,` (and -n idscope its SHA-256, as `idscope ca show`):\n\
         certutil -d sql:$HOME/.pki/nssdb -L\n\
         # Restart the browser (close every window, or open chrome://restart), then use the proxy:\n\
         google-chrome --proxy-server=http://{proxy}\n\
         # (chromium --proxy-server=http://{proxy} alike; headless: add --headless)\n\
         # Remove afterwards:\n\
         certutil -d sql:$HOME/.pki/nssdb -D -n idscope\n\
         # (ca/trust-chrome-linux.sh does the same: --remove undoes it.)\n"
    )
}

/// Java: the runtime's cacerts, or a trust store of one's own. `pem` is quoted for the shell.
fn java(pem: &str, proxy: &str) -> String {
    let (host, port) = split_host(proxy);
    format!(
        "# Java does not read the system store: it trusts the cacerts keystore of the runtime\n\
         # (password changeit). JDK 9 and later (sudo when the JDK is installed system-wide):\n\
         sudo keytool -importcert -trustcacerts -cacerts -alias idscope -file {pem} -storepass changeit -noprompt\n\
         # JDK 8 (no -cacerts option): name the keystore\n\
         sudo keytool -importcert -trustcacerts -keystore $JAVA_HOME/jre/lib/security/cacerts -alias idscope -file {pem} -storepass changeit -noprompt\n\
         # Check (JDK 8: -keystore $JAVA_HOME/jre/lib/security/cacerts instead of -cacerts):\n\
         keytool -list -cacerts -alias idscope -storepass changeit\n\
         # Or leave the runtime alone: a trust store for one program (it then trusts ONLY what\n\
         # the file holds, not cacerts):\n\
         keytool -importcert -trustcacerts -keystore idscope-truststore.p12 -storetype PKCS12 -alias idscope -file {pem} -storepass changeit -noprompt\n\
         java -Djavax.net.ssl.trustStore=idscope-truststore.p12 -Djavax.net.ssl.trustStorePassword=changeit -jar app.jar\n\
         # Use the proxy: Java ignores HTTP_PROXY/HTTPS_PROXY, it reads system properties:\n\
         java -Dhttps.proxyHost={host} -Dhttps.proxyPort={port} -Dhttp.proxyHost={host} -Dhttp.proxyPort={port} -jar app.jar\n\
         # (Java connects to localhost and 127.* directly: add -Dhttp.nonProxyHosts= to send\n\
         # those through the proxy too; or for every JVM started from this shell:)\n\
         export JAVA_TOOL_OPTIONS=\"-Dhttps.proxyHost={host} -Dhttps.proxyPort={port} -Dhttp.proxyHost={host} -Dhttp.proxyPort={port}\"\n\
         # Remove afterwards:\n\
         sudo keytool -delete -cacerts -alias idscope -storepass changeit\n"
    )
}

/// `s` as one shell word: unchanged when it is only safe characters, else single-quoted.
fn sh_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+:=@,%".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn split_host(proxy: &str) -> (&str, &str) {
    proxy.rsplit_once(':').unwrap_or((proxy, "8080"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aadconnect_help_has_both_machine_configs_and_the_root_import() {
        let dir = tempfile::tempdir().unwrap();
        CaStore::init(dir.path()).unwrap();
        let t = trust_help(TrustTarget::Aadconnect, dir.path(), "127.0.0.1:8888");
        for want in [
            r"Framework64\v4.0.30319\Config\machine.config",
            r"Framework\v4.0.30319\Config\machine.config",
            "bypassonlocal=\"true\"",
            "usesystemdefault=\"false\"",
            "proxyaddress=\"http://127.0.0.1:8888\"",
            r"-CertStoreLocation Cert:\LocalMachine\Root",
            "Import-Certificate -FilePath",
        ] {
            assert!(t.contains(want), "missing {want:?} in\n{t}");
        }
        assert!(!t.contains("No CA in"), "{t}");
        assert!(!t.contains("PRIVATE"));
    }

    #[test]
    fn paths_are_quoted_for_the_shell_only_when_needed() {
        assert_eq!(
            sh_quote("/home/a/.local/share/idscope/idscope-ca.pem"),
            "/home/a/.local/share/idscope/idscope-ca.pem"
        );
        assert_eq!(sh_quote("/tmp/my ca/x.pem"), "'/tmp/my ca/x.pem'");
        assert_eq!(sh_quote("/tmp/it's/x.pem"), r"'/tmp/it'\''s/x.pem'");
        assert_eq!(sh_quote(""), "''");
    }

    #[test]
    fn every_target_names_the_certificate_and_the_proxy() {
        let dir = tempfile::tempdir().unwrap();
        for target in [
            TrustTarget::Linux,
            TrustTarget::Macos,
            TrustTarget::Windows,
            TrustTarget::Firefox,
            TrustTarget::ChromeLinux,
            TrustTarget::Java,
        ] {
            let t = trust_help(target, dir.path(), "127.0.0.1:8080");
            assert!(t.contains("idscope ca init"), "{target:?}: {t}");
            assert!(t.contains("8080"), "{target:?}: {t}");
            assert!(t.contains("idscope-ca"), "{target:?}: {t}");
        }
    }
}
