//! Credentials in the raw tabs: which headers carry credentials, the values decoders marked
//! secret in a flow's report, and the mask that hides them until revealed (the Decoded tab masks
//! secret nodes itself, see [`super::tree`]).

use crate::analysis::FlowReport;

use idscope_decoders::secrets;

/// True for headers whose values are credentials, as the secrets policy says.
pub(crate) fn is_sensitive(name: &str) -> bool {
    secrets::is_credential_header(name)
}

/// The values decoders marked secret in a report, as they appear raw and form-urlencoded, longest
/// first; used to mask them in the raw tabs. Values under 4 characters are left alone (masking
/// them would hide unrelated text).
pub fn secrets(report: &FlowReport) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in report
        .request
        .iter()
        .chain(&report.response)
        .filter_map(|o| o.result.as_ref().ok())
    {
        d.root.walk(&mut |_, n| {
            if n.kind != idscope_decoders::Kind::Secret {
                return;
            }
            if let Some(v) = n.value.as_deref().filter(|v| v.chars().count() >= 4) {
                let encoded: String = form_urlencoded::byte_serialize(v.as_bytes()).collect();
                for s in [v.to_string(), encoded] {
                    if !out.contains(&s) {
                        out.push(s);
                    }
                }
            }
        });
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

/// `text` with every one of `values` replaced by the policy's mask (`«secret: N chars»`).
pub(crate) fn mask(text: &str, values: &[String]) -> String {
    let mut t = text.to_string();
    for s in values {
        if t.contains(s.as_str()) {
            t = t.replace(s.as_str(), &secrets::mask(s));
        }
    }
    t
}
