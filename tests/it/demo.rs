//! `idscope demo --headless` end to end: the reference server, the proxy and the scenario client
//! in one process; the recording holds every scenario's flows, decoded.

use std::os::unix::fs::PermissionsExt;

use crate::util::{idscope, stderr, stdout};

#[test]
fn headless_demo_plays_every_scenario_through_the_proxy_and_reports_the_recording() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("demo.har");
    let o = idscope(&["demo", "--headless", "-w", har.to_str().unwrap()], None);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    // Every step printed, none failed.
    assert!(out.lines().any(|l| l.starts_with("ok   sync")), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("ok   federated")),
        "{out}"
    );
    assert!(!out.lines().any(|l| l.starts_with("FAIL")), "{out}");
    // The analyze report of the recording follows.
    assert!(
        out.contains("sync API ProvisionAzureADSyncObjects"),
        "{out}"
    );
    assert!(out.contains("ADFS auto-POST"), "{out}");
    assert!(stderr(&o).contains("recorded"), "{}", stderr(&o));

    // The recording is private, complete and closed.
    assert_eq!(
        std::fs::metadata(&har).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let flows = idscope::capture::read_all(&har).unwrap();
    let hosts: std::collections::BTreeSet<String> = flows.iter().map(|f| f.host()).collect();
    for h in [
        "login.microsoftonline.com",
        "adminwebservice.microsoftonline.com",
        "sts.contoso.test",
    ] {
        assert!(hosts.contains(h), "no flow to {h}: {hosts:?}");
    }
    assert!(
        flows.iter().all(|f| f.response().is_some()),
        "every exchange completed"
    );
    assert!(
        std::fs::read_to_string(&har)
            .unwrap()
            .trim_end()
            .ends_with("]}}")
    );
}

#[test]
fn demo_refuses_to_overwrite_a_recording() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("exists.har");
    std::fs::write(&har, "keep me").unwrap();
    let o = idscope(&["demo", "--headless", "-w", har.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&har).unwrap(), "keep me");
}
