//! `idscope redact` end to end with the real binary: a capture with more than 50 planted
//! canary secrets in every position and encoding security.md §1 lists is redacted, and none of
//! the canaries survives raw, base64, base64url or URL-encoded, while names, claims and
//! structure do. Also: idempotence, equal fingerprints across flows, refusals by the residual
//! detector (exit 1, no output file), input errors (exit 2), and `convert --redact`.

use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use idscope::capture;
use idscope_decoders::soap::nbfx;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::util::{idscope, stderr};

/// The `n`th canary: a unique, random-looking, fixed-length alphanumeric string.
pub(crate) fn canary(n: usize) -> String {
    let h = Sha256::digest(format!("idscope-canary-{n}").as_bytes());
    let hex: String = h.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("Cnry{n:02}Q{hex}")
}

/// Every spelling of `secret` that must not appear in the output: raw, URL-encoded, and the
/// stable middle of its standard and URL-safe base64 at each of the three byte alignments.
pub(crate) fn spellings(secret: &str) -> Vec<String> {
    let mut out = vec![
        secret.to_string(),
        form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
    ];
    for k in 0..3 {
        let mut bytes = vec![b'x'; k];
        bytes.extend_from_slice(secret.as_bytes());
        for enc in [STANDARD.encode(&bytes), URL_SAFE_NO_PAD.encode(&bytes)] {
            // Skip the characters that depend on the bytes before and after the secret.
            let skip = (k * 4).div_ceil(3) + 1;
            let core = enc.get(skip..enc.len().saturating_sub(4)).unwrap_or("");
            if core.len() >= 12 {
                out.push(core.to_string());
            }
        }
    }
    out
}

fn b64u(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s.as_bytes())
}

/// A JWS whose signature segment is `sig` (base64url text) and whose claims are `claims`.
pub(crate) fn jws(claims: &Value, sig: &str) -> String {
    format!(
        "{}.{}.{sig}",
        b64u(r#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#),
        b64u(&claims.to_string())
    )
}

fn hdrs(pairs: &[(&str, &str)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect(),
    )
}

pub(crate) fn entry(request: Value, response: Value) -> Value {
    json!({
        "startedDateTime": "2026-11-20T09:00:00Z",
        "time": 10,
        "request": request,
        "response": response,
        "timings": {"send": 0, "wait": 5, "receive": 5},
    })
}

pub(crate) fn req(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Value {
    let mut r = json!({
        "method": method, "url": url, "httpVersion": "HTTP/1.1",
        "headers": hdrs(headers), "cookies": [], "queryString": [],
        "headersSize": -1, "bodySize": -1,
    });
    if let Some(b) = body {
        let ct = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .map_or("", |(_, v)| v);
        r["postData"] = json!({"mimeType": ct, "text": b});
    }
    r
}

pub(crate) fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Value {
    let ct = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map_or("", |(_, v)| v);
    json!({
        "status": status, "statusText": "", "httpVersion": "HTTP/1.1",
        "headers": hdrs(headers), "cookies": [], "redirectURL": "",
        "content": {"size": body.len(), "mimeType": ct, "text": body},
        "headersSize": -1, "bodySize": -1,
    })
}

pub(crate) fn ok() -> Value {
    resp(204, &[], "")
}

fn deflate_raw(s: &str) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(s.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn gzip(s: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(s.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn entities(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn urlenc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A signed SAML 2.0 response: issuer and NameID in clear, signature value and an encrypted
/// attribute's cipher value are canaries.
fn saml_response(sig: &str, cipher: &str) -> String {
    format!(
        r##"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2026-11-20T09:00:00Z"><saml:Issuer>https://idp.example/saml</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="_a1" Version="2.0" IssueInstant="2026-11-20T09:00:00Z"><saml:Issuer>https://idp.example/saml</saml:Issuer><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_a1"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>ZGlnZXN0LXZhbHVlLWtlcHQ=</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>{sig}</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>TUlJQ2NlcnRpZmljYXRlLWtlcHQ=</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">lHh/rEL830q6/mStDnD4uw==</saml:NameID></saml:Subject><saml:EncryptedAttribute><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"><xenc:CipherData><xenc:CipherValue>{cipher}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAttribute></saml:Assertion></samlp:Response>"##
    )
}

fn authn_request(sig: &str) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_q1" Version="2.0" IssueInstant="2026-11-20T09:00:00Z"><saml:Issuer>urn:federation:MicrosoftOnline</saml:Issuer><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignatureValue>{sig}</ds:SignatureValue></ds:Signature></samlp:AuthnRequest>"#
    )
}

fn rstr(sig: &str) -> String {
    format!(
        r##"<t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust"><t:RequestedSecurityToken><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" MajorVersion="1" MinorVersion="1" AssertionID="_x1" Issuer="http://sts.contoso.com/adfs/services/trust/"><saml:AttributeStatement><saml:Subject><saml:NameIdentifier>lHh/rEL830q6/mStDnD4uw==</saml:NameIdentifier></saml:Subject></saml:AttributeStatement><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:Reference URI="#_x1"><ds:DigestValue>ZGlnZXN0</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>{sig}</ds:SignatureValue></ds:Signature></saml:Assertion></t:RequestedSecurityToken></t:RequestSecurityTokenResponse>"##
    )
}

const C: &str = "http://schemas.microsoft.com/online/aws/change/2010/01";

fn sync_envelope(op: &str, header_token: &str, body: &str) -> String {
    format!(
        r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action s:mustUnderstand="1">http://schemas.microsoft.com/online/aws/change/2010/01/IProvisioningWebService/{op}</a:Action><SyncToken s:role="urn:microsoft.online.administrativeservice" xmlns="urn:microsoft.online.administrativeservice"><ApplicationId xmlns="{C}">1651564e-7ce4-4d99-88be-0a65050d8dc3</ApplicationId><BearerToken xmlns="{C}">{header_token}</BearerToken><ClientVersion xmlns="{C}">8.0</ClientVersion></SyncToken></s:Header><s:Body>{body}</s:Body></s:Envelope>"#
    )
}

/// The capture: every position of the policy table, each with its own canaries.
pub(crate) fn planted() -> (Value, Vec<String>) {
    let c: Vec<String> = (0..64).map(canary).collect();
    let mut used = Vec::new();
    let mut take = |i: usize| {
        used.push(c[i].clone());
        c[i].clone()
    };
    let mut entries = Vec::new();

    // #1 ROPC-style token request: query, fragment, Basic, cookies, PRT header and cookie,
    // device credential, API key, CSRF, Referer, form body with case variants; the response
    // is a token response with nested secrets and Set-Cookie.
    let prt_cookie = jws(
        &json!({"refresh_token": take(0), "is_primary": "true"}),
        &take(1),
    );
    let prt_header = jws(
        &json!({"refresh_token": take(2), "request_nonce": "n"}),
        &take(3),
    );
    let basic = STANDARD.encode(format!("alice:{}", take(4)));
    let cookie = format!(
        "ESTSAUTH={}; x-ms-RefreshTokenCredential={prt_cookie}; fpc={}",
        take(5),
        take(6)
    );
    let url = format!(
        "https://login.microsoftonline.com/contoso/oauth2/token?code={}&state=keep-state#access_token={}",
        take(7),
        take(8)
    );
    let referer = format!("https://app.example/cb?code={}&x=1", take(9));
    let form = format!(
        "grant_type=password&username=alice%40contoso.com&Password={}&CLIENT_SECRET={}&refresh_token={}&code_verifier={}&device_code={}&new_password={}&client_id=app",
        urlenc(&take(10)),
        take(11),
        take(12),
        take(13),
        take(14),
        take(15)
    );
    let x_ms_dc = take(16);
    let api_key = take(17);
    let csrf = take(18);
    let mut request = req(
        "POST",
        &url,
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", &format!("Basic {basic}")),
            ("Cookie", &cookie),
            ("x-ms-RefreshTokenCredential", &prt_header),
            ("x-ms-DeviceCredential", &x_ms_dc),
            ("X-Api-Key", &api_key),
            ("X-CSRF-Token", &csrf),
            ("Referer", &referer),
        ],
        Some(&form),
    );
    // HAR cookies[] as browsers write them, including one only present there.
    request["cookies"] = json!([
        {"name": "ESTSAUTH", "value": c[5]},
        {"name": "only-in-har", "value": take(19)},
    ]);
    let access = jws(
        &json!({"aud": "https://graph.windows.net", "upn": "alice@contoso.com", "scp": "user_impersonation"}),
        &take(20),
    );
    let unsigned_id = format!(
        "{}.{}.",
        b64u(r#"{"typ":"JWT","alg":"none"}"#),
        b64u(&json!({"upn": "alice@contoso.com", "nonce": take(21)}).to_string())
    );
    let jwe = format!(
        "{}.{}.{}.{}.{}",
        b64u(r#"{"enc":"A256GCM","alg":"RSA-OAEP"}"#),
        take(22),
        take(23),
        take(24),
        take(25)
    );
    let token_response = json!({
        "token_type": "Bearer",
        "access_token": access,
        "Refresh_Token": take(26),
        "id_token": unsigned_id,
        "session_key_jwe": jwe,
        "tgt_ad": format!("{{\"clientKey\":\"{}\",\"keyType\":1}}", take(27)),
        "nested": {"deeper": [{"Client_Secret": take(28)}, {"PIN": 482913}]},
        "expires_in": 3599,
    });
    let set_cookie = format!("ESTSAUTHPERSISTENT={}; path=/; secure; HttpOnly", take(29));
    let set_prt = format!("x-ms-RefreshTokenCredential={}; path=/", take(30));
    let mut response = resp(
        200,
        &[
            ("Content-Type", "application/json; charset=utf-8"),
            ("Set-Cookie", &set_cookie),
            ("Set-Cookie", &set_prt),
        ],
        &token_response.to_string(),
    );
    response["cookies"] = json!([{"name": "ESTSAUTHPERSISTENT", "value": c[29]}]);
    let mut e = entry(request, response);
    e["_initiator"] = json!({"url": format!("https://app.example/start?code={}", take(31))});
    entries.push(e);

    // #2 authorize with a redirect: Location (and redirectURL), NTLM blob, opaque Bearer.
    let mut ntlm = b"NTLMSSP\0\x03\0\0\0".to_vec();
    ntlm.extend_from_slice(take(32).as_bytes());
    let location = format!(
        "https://app.example/cb?code={}&state=s1#id_token={}",
        take(33),
        jws(&json!({"sub": "s", "aud": "app"}), &take(34))
    );
    let mut r = resp(302, &[("Location", &location)], "");
    r["redirectURL"] = json!(location);
    entries.push(entry(
        req(
            "GET",
            &format!(
                "https://login.microsoftonline.com/common/oauth2/authorize?client_id=app&user_code={}",
                take(35)
            ),
            &[
                ("Authorization", &format!("NTLM {}", STANDARD.encode(&ntlm))),
                ("Proxy-Authorization", &format!("Bearer {}", take(36))),
            ],
            None,
        ),
        r,
    ));

    // #3 SAML HTTP-POST: SAMLResponse in base64 in a form field.
    let saml = saml_response(&take(37), &take(38));
    entries.push(entry(
        req(
            "POST",
            "https://sp.example/saml/acs",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(&format!(
                "SAMLResponse={}&RelayState=rs",
                urlenc(&STANDARD.encode(&saml))
            )),
        ),
        ok(),
    ));

    // #4 SAML HTTP-Redirect: deflated SAMLRequest and a query signature.
    let deflated = STANDARD.encode(deflate_raw(&authn_request(&take(39))));
    entries.push(entry(
        req(
            "GET",
            &format!(
                "https://idp.example/saml/sso?SAMLRequest={}&SigAlg=rsa-sha256&Signature={}",
                urlenc(&deflated),
                take(40)
            ),
            &[],
            None,
        ),
        ok(),
    ));

    // #5 ADFS forms sign-in and its auto-POST page with an entity-encoded wresult.
    let page = format!(
        r#"<html><body><form method="POST" name="hiddenform" action="https://login.microsoftonline.com:443/login.srf"><input type="hidden" name="wa" value="wsignin1.0" /><input type="hidden" name="wresult" value="{}" /><input type="hidden" name="wctx" value="LoginOptions=3" /></form></body></html>"#,
        entities(&rstr(&take(41)))
    );
    entries.push(entry(
        req(
            "POST",
            "https://sts.contoso.com/adfs/ls/?wa=wsignin1.0",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(&format!(
                "UserName=alice%40contoso.com&Password={}&AuthMethod=FormsAuthentication",
                take(42)
            )),
        ),
        resp(200, &[("Content-Type", "text/html; charset=utf-8")], &page),
    ));

    // #6 the browser posts wresult to login.srf.
    entries.push(entry(
        req(
            "POST",
            "https://login.microsoftonline.com/login.srf",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(&format!(
                "wa=wsignin1.0&wresult={}&wctx=LoginOptions%3D3",
                urlenc(&rstr(&take(43)))
            )),
        ),
        ok(),
    ));

    // #7 OIDC form_post page.
    let fp_page = format!(
        r#"<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="https://app.example/signin-oidc"><input type="hidden" name="code" value="{}" /><input type="hidden" name="id_token" value="{}" /><input type="hidden" name="state" value="st" /></form></body></html>"#,
        take(44),
        jws(&json!({"aud": "app", "name": "Alice"}), &take(45))
    );
    entries.push(entry(
        req(
            "GET",
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?response_mode=form_post",
            &[],
            None,
        ),
        resp(200, &[("Content-Type", "text/html")], &fp_page),
    ));

    // #8 WS-Trust usernamemixed.
    let rst = format!(
        r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><s:Header><o:Security><o:UsernameToken><o:Username>alice@contoso.com</o:Username><o:Password Type="PasswordText">{}</o:Password><o:Nonce>{}</o:Nonce></o:UsernameToken><o:BinarySecurityToken ValueType="http://docs.oasis-open.org/wss/oasis-wss-kerberos-token-profile-1.1#GSS_Kerberosv5_AP_REQ">{}</o:BinarySecurityToken><o:BinarySecurityToken ValueType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3">TUlJQ2VydA==</o:BinarySecurityToken></o:Security></s:Header><s:Body/></s:Envelope>"#,
        take(46),
        take(47),
        take(48)
    );
    entries.push(entry(
        req(
            "POST",
            "https://sts.contoso.com/adfs/services/trust/13/usernamemixed",
            &[("Content-Type", "application/soap+xml; charset=utf-8")],
            Some(&rst),
        ),
        ok(),
    ));

    // #9 the AAD Connect sync API in .NET binary XML: BearerToken, ProvisionCredentials,
    // GetServiceAccount's password.
    let bearer = jws(
        &json!({"aud": "https://graph.windows.net", "upn": "Sync_AADC01@contoso.onmicrosoft.com"}),
        &take(49),
    );
    let provision = format!(
        r#"<ProvisionCredentials xmlns="{C}"><request xmlns:b="http://schemas.datacontract.org/2004/07/Microsoft.Online.Coexistence.Schema" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><b:RequestItems><b:SyncCredentialsChangeItem><b:ChangeDate>2026-11-20T09:00:00Z</b:ChangeDate><b:CredentialData>v1;PPH1_MD4,{},1000,{};</b:CredentialData><b:SourceAnchor>lHh/rEL830q6/mStDnD4uw==</b:SourceAnchor></b:SyncCredentialsChangeItem></b:RequestItems></request></ProvisionCredentials>"#,
        take(50),
        take(51)
    );
    let req_xml = sync_envelope("ProvisionCredentials", &bearer, &provision);
    let resp_xml = sync_envelope(
        "GetServiceAccountResponse",
        "",
        &format!(
            r#"<GetServiceAccountResponse xmlns="{C}"><GetServiceAccountResult><UserName>svc@contoso.com</UserName><Password>{}</Password></GetServiceAccountResult></GetServiceAccountResponse>"#,
            take(52)
        ),
    );
    let msbin_req = nbfx::encode(&req_xml, nbfx::Style::DataContract).unwrap();
    let msbin_resp = nbfx::encode(&resp_xml, nbfx::Style::XmlDocument).unwrap();
    let mut sync_req = req(
        "POST",
        "https://adminwebservice.microsoftonline.com/provisioningservice.svc",
        &[("Content-Type", "application/soap+msbin1")],
        None,
    );
    sync_req["postData"] = json!({"mimeType": "application/soap+msbin1", "text": STANDARD.encode(&msbin_req), "encoding": "base64"});
    let mut sync_resp = resp(200, &[("Content-Type", "application/soap+msbin1")], "");
    sync_resp["content"] = json!({"size": msbin_resp.len(), "mimeType": "application/soap+msbin1", "text": STANDARD.encode(&msbin_resp), "encoding": "base64"});
    entries.push(entry(sync_req, sync_resp));

    // #10 multipart with a secret field and a JSON part.
    let multipart = format!(
        "--XyZb\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\n{}\r\n--XyZb\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{{\"Password\":\"{}\",\"label\":\"kept\"}}\r\n--XyZb--\r\n",
        take(53),
        take(54)
    );
    entries.push(entry(
        req(
            "POST",
            "https://api.example/upload",
            &[("Content-Type", "multipart/form-data; boundary=XyZb")],
            Some(&multipart),
        ),
        ok(),
    ));

    // #11 a base64 request body and a gzip response body.
    let b64_body =
        STANDARD.encode(json!({"refresh_token": take(55), "client_id": "app"}).to_string());
    let gz = gzip(&json!({"access_token": take(56), "token_type": "Bearer"}).to_string());
    let mut gz_resp = resp(
        200,
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        "",
    );
    gz_resp["content"] = json!({"size": gz.len(), "mimeType": "application/json", "text": STANDARD.encode(&gz), "encoding": "base64"});
    entries.push(entry(
        req(
            "POST",
            "https://login.microsoftonline.com/contoso/oauth2/v2.0/token",
            &[("Content-Type", "text/plain")],
            Some(&b64_body),
        ),
        gz_resp,
    ));

    // #12 client assertion, SAML-bearer assertion and a PRT request JWT with a password inside.
    let client_assertion = jws(&json!({"iss": "app", "aud": "login"}), &take(57));
    let saml_assertion = STANDARD.encode(rstr(&take(58)));
    let prt_request = jws(
        &json!({"grant_type": "password", "username": "alice@contoso.com", "password": take(59), "client_id": "38aa3b87"}),
        &take(60),
    );
    entries.push(entry(
        req(
            "POST",
            "https://login.microsoftonline.com/common/oauth2/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(&format!(
                "client_assertion={client_assertion}&assertion={}&request={prt_request}&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer",
                urlenc(&saml_assertion)
            )),
        ),
        ok(),
    ));

    // #13 credentials in the URL, and an unknown binary body on an identity endpoint.
    let blob = format!("\u{0}\u{1}binary{}\u{2}", take(61));
    let mut bin_resp = resp(200, &[("Content-Type", "application/octet-stream")], "");
    bin_resp["content"] = json!({"size": blob.len(), "mimeType": "application/octet-stream", "text": STANDARD.encode(blob.as_bytes()), "encoding": "base64"});
    entries.push(entry(
        req(
            "GET",
            &format!("https://bob:{}@sts.contoso.com/adfs/blob", take(62)),
            &[],
            None,
        ),
        bin_resp,
    ));

    let har = json!({"log": {"version": "1.2", "creator": {"name": "canary", "version": "1"}, "entries": entries}});
    (har, used)
}

pub(crate) fn write(dir: &Path, name: &str, v: &Value) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p
}

fn redact(input: &Path, output: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "redact",
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    idscope(&args, None)
}

fn entries_of(path: &Path) -> Vec<Value> {
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    doc["log"]["entries"].as_array().unwrap().clone()
}

fn jwt_claims(token: &str) -> Value {
    let p = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

#[test]
fn no_planted_canary_survives_in_any_encoding_and_structure_does() {
    let dir = tempfile::tempdir().unwrap();
    let (har, canaries) = planted();
    assert!(canaries.len() >= 60, "{} canaries", canaries.len());
    let input = write(dir.path(), "in.har", &har);
    // The input really carries every canary in some spelling (except the two that are only
    // there compressed: the deflated SAMLRequest and the gzip body).
    let raw_in = std::fs::read_to_string(&input).unwrap();
    let compressed = [canary(39), canary(56)];
    for c in canaries.iter().filter(|c| !compressed.contains(c)) {
        assert!(
            spellings(c).iter().any(|s| raw_in.contains(s.as_str()))
                || raw_in.contains(&STANDARD.encode(c.as_bytes())[..8]),
            "canary {c} not planted"
        );
    }
    let out = dir.path().join("out.har");
    let o = redact(&input, &out, &[]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut leaks = Vec::new();
    for c in &canaries {
        for s in spellings(c) {
            if text.contains(&s) {
                leaks.push(format!("{c} as {s}"));
            }
        }
    }
    // Decoded bodies too: base64-stored bodies (msbin1, gzip, binary) must not hide one.
    let flows = capture::read_all(&out).expect("the redacted HAR loads in idscope");
    assert_eq!(flows.len(), 13);
    for f in &flows {
        let mut bodies = vec![f.request.body.decoded_lossy(1 << 24).into_owned()];
        if let Some(r) = f.response() {
            bodies.push(r.body.decoded_lossy(1 << 24).into_owned());
        }
        for b in bodies {
            let t = String::from_utf8_lossy(&b);
            for c in &canaries {
                if t.contains(c.as_str()) {
                    leaks.push(format!("{c} in a decoded body of {}", f.id));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "leaked: {leaks:#?}");

    // What must survive: names, claims, structure.
    let doc: Value = serde_json::from_str(&text).unwrap();
    let red = &doc["log"]["_redaction"];
    assert!(
        red["policy"]
            .as_str()
            .unwrap()
            .starts_with("idscope-redact/"),
        "{red}"
    );
    assert_eq!(red["flows"], 13);
    assert!(red["fired"]["cookie"].as_u64().unwrap() >= 4, "{red}");
    assert!(
        red["fired"]["xml_signature_value"].as_u64().unwrap() >= 5,
        "{red}"
    );
    let e = &doc["log"]["entries"];
    let h = |i: usize, side: &str, name: &str| -> String {
        e[i][side]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["name"] == name)
            .map(|x| x["value"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    // Cookie names and attributes stay; HAR cookies[] follow the redacted header.
    let cookie = h(0, "request", "Cookie");
    assert!(
        cookie.starts_with("ESTSAUTH=«redacted:cookie:len=27:fp="),
        "{cookie}"
    );
    assert!(
        cookie.contains("; x-ms-RefreshTokenCredential=«redacted:prt:"),
        "{cookie}"
    );
    assert_eq!(e[0]["request"]["cookies"][0]["name"], "ESTSAUTH");
    assert!(
        e[0]["request"]["cookies"][0]["value"]
            .as_str()
            .unwrap()
            .starts_with("«redacted:cookie")
    );
    let set = h(0, "response", "Set-Cookie");
    assert!(set.contains("; path=/; secure; HttpOnly"), "{set}");
    assert_eq!(e[0]["response"]["cookies"][0]["name"], "ESTSAUTHPERSISTENT");
    // Header names remain; Basic keeps the user.
    for name in [
        "x-ms-RefreshTokenCredential",
        "x-ms-DeviceCredential",
        "X-Api-Key",
        "X-CSRF-Token",
    ] {
        assert!(h(0, "request", name).starts_with("«redacted:"), "{name}");
    }
    let basic = h(0, "request", "Authorization");
    let user_pass = String::from_utf8(
        STANDARD
            .decode(basic.strip_prefix("Basic ").unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(user_pass, "alice:«redacted:password:len=27»");
    assert!(h(1, "request", "Authorization").starts_with("NTLM «redacted:ntlm_type3:"));
    assert!(h(1, "request", "Proxy-Authorization").starts_with("Bearer «redacted:"));
    // Query: secret parameters replaced, others byte-identical.
    let url = e[0]["request"]["url"].as_str().unwrap();
    assert!(
        url.contains("&state=keep-state#access_token=%C2%ABredacted%3A"),
        "{url}"
    );
    assert!(
        e[0]["request"]["queryString"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["name"] == "code")
    );
    // Form body: names kept, password never fingerprinted.
    let form = e[0]["request"]["postData"]["text"].as_str().unwrap();
    assert!(form.contains("username=alice%40contoso.com"), "{form}");
    assert!(
        form.contains("Password=%C2%ABredacted%3Apassword%3Alen%3D27%C2%BB&"),
        "{form}"
    );
    assert!(form.ends_with("&client_id=app"), "{form}");
    // Token response: the access token's claims still decode, its signature is gone.
    let body: Value =
        serde_json::from_str(e[0]["response"]["content"]["text"].as_str().unwrap()).unwrap();
    let at = body["access_token"].as_str().unwrap();
    assert!(
        at.split('.').nth(2).unwrap().starts_with("REDACTED-SIG-"),
        "{at}"
    );
    assert_eq!(jwt_claims(at)["upn"], "alice@contoso.com");
    assert!(
        body["id_token"]
            .as_str()
            .unwrap()
            .starts_with("«redacted:jwt_unsigned:")
    );
    assert!(
        body["Refresh_Token"]
            .as_str()
            .unwrap()
            .starts_with("«redacted:refresh_token:")
    );
    assert!(
        body["tgt_ad"]
            .as_str()
            .unwrap()
            .starts_with("«redacted:tgt:")
    );
    assert!(
        body["nested"]["deeper"][1]["PIN"]
            .as_str()
            .unwrap()
            .starts_with("«redacted:password:")
    );
    assert_eq!(body["expires_in"], 3599);
    // session_key_jwe goes whole even though it is JWT-shaped (the JWE rule is unit-tested).
    assert!(
        body["session_key_jwe"]
            .as_str()
            .unwrap()
            .starts_with("«redacted:session_key:")
    );
    // Location / redirectURL: the id_token keeps its claims.
    let loc = e[1]["response"]["redirectURL"].as_str().unwrap();
    assert_eq!(loc, h(1, "response", "Location"));
    assert!(loc.contains("&state=s1#id_token=eyJ"), "{loc}");
    // SAML POST: issuer and NameID survive inside the re-encoded base64.
    let form3 = e[2]["request"]["postData"]["text"].as_str().unwrap();
    let saml_b64 = form_urlencoded::parse(form3.as_bytes())
        .find(|(k, _)| k == "SAMLResponse")
        .unwrap()
        .1;
    let saml = String::from_utf8(STANDARD.decode(saml_b64.as_bytes()).unwrap()).unwrap();
    assert!(
        saml.contains("<saml:Issuer>https://idp.example/saml</saml:Issuer>"),
        "{saml}"
    );
    assert!(
        saml.contains(">lHh/rEL830q6/mStDnD4uw==</saml:NameID>"),
        "{saml}"
    );
    assert!(saml.contains("<ds:DigestValue>ZGlnZXN0LXZhbHVlLWtlcHQ=</ds:DigestValue>"));
    assert!(saml.contains("<ds:X509Certificate>TUlJQ2NlcnRpZmljYXRlLWtlcHQ=</ds:X509Certificate>"));
    assert!(
        saml.contains("<ds:SignatureValue>«redacted:xml_signature:len=27:fp="),
        "{saml}"
    );
    // SAML redirect: still raw DEFLATE.
    let url4 = e[3]["request"]["url"].as_str().unwrap();
    let q = idscope_decoders::util::url_query_pairs(url4);
    let req_b64 = &q.iter().find(|(k, _)| k == "SAMLRequest").unwrap().1;
    let (xml, comp) =
        idscope_decoders::saml::saml2::inflate_redirect(req_b64, "t", &Default::default()).unwrap();
    assert_eq!(comp, idscope_decoders::saml::saml2::Compression::RawDeflate);
    assert!(
        String::from_utf8(xml)
            .unwrap()
            .contains("<saml:Issuer>urn:federation:MicrosoftOnline</saml:Issuer>")
    );
    // ADFS page: wresult still entity-encoded XML with the issuer.
    let page = e[4]["response"]["content"]["text"].as_str().unwrap();
    assert!(
        page.contains("name=\"wresult\" value=\"&lt;t:RequestSecurityTokenResponse"),
        "{page}"
    );
    assert!(page.contains("Issuer=&quot;http://sts.contoso.com/adfs/services/trust/&quot;"));
    // form_post: the id_token's claims survive.
    let fp = e[6]["response"]["content"]["text"].as_str().unwrap();
    let form = idscope_decoders::html::find_form(fp).unwrap();
    assert!(form.input("code").unwrap().starts_with("«redacted:code:"));
    assert_eq!(jwt_claims(form.input("id_token").unwrap())["name"], "Alice");
    // WS-Trust: the username stays, the X.509 token stays.
    let rst = e[7]["request"]["postData"]["text"].as_str().unwrap();
    assert!(rst.contains("<o:Username>alice@contoso.com</o:Username>"));
    assert!(rst.contains(">TUlJQ2VydA==</o:BinarySecurityToken>"));
    // msbin1 still decodes, BearerToken keeps its claims.
    let sync = &flows[8];
    let doc = nbfx::decode(&sync.request.body.raw, &Default::default()).unwrap();
    let bt_start = doc.xml.find("<BearerToken").unwrap();
    let bt = &doc.xml[bt_start..];
    let token = &bt[bt.find('>').unwrap() + 1..bt.find("</BearerToken>").unwrap()];
    assert_eq!(
        jwt_claims(token)["upn"],
        "Sync_AADC01@contoso.onmicrosoft.com"
    );
    assert!(
        doc.xml
            .contains("<b:CredentialData>«redacted:credential_data:"),
        "{}",
        doc.xml
    );
    let resp_doc = nbfx::decode(&sync.response().unwrap().body.raw, &Default::default()).unwrap();
    assert!(
        resp_doc.xml.contains(
            "<UserName>svc@contoso.com</UserName><Password>«redacted:password:len=27»</Password>"
        ),
        "{}",
        resp_doc.xml
    );
    // Multipart keeps its other fields; the base64 body is still base64 JSON.
    let mp = e[9]["request"]["postData"]["text"].as_str().unwrap();
    assert!(mp.contains("\"label\":\"kept\""), "{mp}");
    let b64 = e[10]["request"]["postData"]["text"].as_str().unwrap();
    let inner: Value = serde_json::from_slice(&STANDARD.decode(b64).unwrap()).unwrap();
    assert_eq!(inner["client_id"], "app");
    // PRT request JWT: claims kept, the password inside replaced.
    let f12 = e[11]["request"]["postData"]["text"].as_str().unwrap();
    let request_jwt = form_urlencoded::parse(f12.as_bytes())
        .find(|(k, _)| k == "request")
        .unwrap()
        .1;
    let claims = jwt_claims(&request_jwt);
    assert_eq!(claims["username"], "alice@contoso.com");
    assert_eq!(claims["password"], "«redacted:password:len=27»");
    // URL password and the opaque body.
    assert!(
        e[12]["request"]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://bob:%C2%ABredacted%3Apassword")
    );
    assert!(
        flows[12]
            .response()
            .unwrap()
            .body
            .raw
            .starts_with("«redacted:body:len=".as_bytes())
    );
}

#[test]
fn a_second_redaction_changes_no_entry() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.har", &planted().0);
    let once = dir.path().join("once.har");
    let twice = dir.path().join("twice.har");
    assert!(redact(&input, &once, &[]).status.success());
    let o = redact(&once, &twice, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Entries are byte-identical (only `_redaction` differs: nothing fired the second time).
    assert_eq!(entries_of(&once), entries_of(&twice));
    let doc: Value = serde_json::from_slice(&std::fs::read(&twice).unwrap()).unwrap();
    assert_eq!(
        doc["log"]["_redaction"]["fired"],
        json!({}),
        "{}",
        doc["log"]["_redaction"]
    );
    assert!(
        doc["log"]["_redaction"]["already_redacted"]
            .as_u64()
            .unwrap()
            > 50
    );
}

#[test]
fn equal_values_get_equal_fingerprints_across_flows_and_headers() {
    let dir = tempfile::tempdir().unwrap();
    let rt = canary(90);
    let cookie = canary(91);
    let har = json!({"log": {"entries": [
        entry(
            req("POST", "https://login.microsoftonline.com/t/oauth2/token", &[("Content-Type", "application/x-www-form-urlencoded")], Some("grant_type=password&password=x")),
            resp(200, &[("Content-Type", "application/json"), ("Set-Cookie", &format!("esctx={cookie}; path=/"))], &json!({"refresh_token": rt}).to_string()),
        ),
        entry(
            req("POST", "https://login.microsoftonline.com/t/oauth2/token", &[("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", &format!("esctx={cookie}"))], Some(&format!("grant_type=refresh_token&refresh_token={rt}"))),
            ok(),
        ),
    ]}});
    let input = write(dir.path(), "in.har", &har);
    let out = dir.path().join("out.har");
    assert!(redact(&input, &out, &[]).status.success());
    let e = entries_of(&out);
    let body: Value =
        serde_json::from_str(e[0]["response"]["content"]["text"].as_str().unwrap()).unwrap();
    let issued = body["refresh_token"].as_str().unwrap().to_string();
    let sent = e[1]["request"]["postData"]["text"].as_str().unwrap();
    let sent = form_urlencoded::parse(sent.as_bytes())
        .find(|(k, _)| k == "refresh_token")
        .unwrap()
        .1;
    assert!(
        issued.starts_with("«redacted:refresh_token:len=27:fp="),
        "{issued}"
    );
    assert_eq!(issued, sent);
    let set = e[0]["response"]["headers"][1]["value"].as_str().unwrap();
    let sent_cookie = e[1]["request"]["headers"][1]["value"].as_str().unwrap();
    assert_eq!(set.split(';').next().unwrap(), sent_cookie);
    // A fresh key per export: the same input redacted again fingerprints differently.
    let out2 = dir.path().join("out2.har");
    assert!(redact(&input, &out2, &[]).status.success());
    let e2 = entries_of(&out2);
    assert_ne!(e[0]["response"]["content"], e2[0]["response"]["content"]);
}

fn assert_refused(har: Value, needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.har", &har);
    let out = dir.path().join("out.har");
    let o = redact(&input, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("flow #1") && err.contains(needle), "{err}");
    assert!(!out.exists(), "a refused export must leave no file");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "temporary file left behind: {leftovers:?}"
    );
}

#[test]
fn the_residual_detector_refuses_a_signed_jws_in_an_unknown_header() {
    let token = jws(&json!({"sub": "x"}), &canary(92));
    assert_refused(
        json!({"log": {"entries": [entry(req("GET", "https://app.example/", &[("X-Trace", &token)], None), ok())]}}),
        "request header X-Trace: a signed JWS (alg RS256)",
    );
}

#[test]
fn the_residual_detector_refuses_a_pem_private_key_in_a_body() {
    let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
    assert_refused(
        json!({"log": {"entries": [entry(req("GET", "https://app.example/", &[], None), resp(200, &[("Content-Type", "text/plain")], pem))]}}),
        "response body: a PEM private key",
    );
}

#[test]
fn input_errors_exit_2_and_existing_output_needs_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.har");
    let o = redact(&dir.path().join("missing.har"), &out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!out.exists());
    let input = write(dir.path(), "in.har", &json!({"log": {"entries": []}}));
    std::fs::write(&out, "keep me").unwrap();
    let o = redact(&input, &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
    assert!(redact(&input, &out, &["--force"]).status.success());
    assert!(capture::read_all(&out).unwrap().is_empty());
}

#[test]
fn mask_pii_is_an_option_and_convert_redact_uses_the_same_policy() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.har", &planted().0);
    let out = dir.path().join("pii.har");
    let o = idscope(
        &[
            "convert",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--redact",
            "--mask-pii",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    for c in planted().1 {
        assert!(!text.contains(&c), "{c}");
    }
    let e = entries_of(&out);
    let body: Value =
        serde_json::from_str(e[0]["response"]["content"]["text"].as_str().unwrap()).unwrap();
    let upn = jwt_claims(body["access_token"].as_str().unwrap())["upn"].clone();
    assert!(upn.as_str().unwrap().starts_with("«redacted:pii:"), "{upn}");
    // Without --mask-pii the same claim is kept (checked in the canary test above).
}

#[test]
fn the_spellings_find_a_canary_wherever_base64_puts_it() {
    let c = canary(7);
    for prefix in 0..7 {
        for suffix in 0..4 {
            let blob = format!("{}{c}{}", "p".repeat(prefix), "s".repeat(suffix));
            for enc in [STANDARD.encode(&blob), URL_SAFE_NO_PAD.encode(&blob)] {
                assert!(
                    spellings(&c).iter().any(|s| enc.contains(s.as_str())),
                    "prefix {prefix} suffix {suffix}: {enc}"
                );
            }
        }
    }
}

#[test]
fn a_redacted_capture_reads_as_redacted_not_as_tampered() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shareable.har");
    let o = crate::util::idscope(
        &[
            "redact",
            "captures/aadconnect-sync.har",
            "-o",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", crate::util::stderr(&o));
    let report = crate::util::stdout(&crate::util::idscope(
        &["analyze", out.to_str().unwrap()],
        None,
    ));
    assert!(
        report.contains("not verified: the signature was removed by idscope redact"),
        "{report}"
    );
    assert!(!report.contains("does NOT verify"), "{report}");
}

// ---------------------------------------------------------------------------------------------
// A redacted copy analyzes as cleanly as the original

/// `analyze --json FILE [extra…]`: one JSON object per line (flows, and whatever else the
/// report holds).
fn analyze_json(file: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["analyze", "--json"];
    args.extend_from_slice(extra);
    args.push(file.to_str().unwrap());
    let o = idscope(&args, None);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "analyze failed: {}",
        stderr(&o)
    );
    let out = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<Value> = out
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!lines.is_empty(), "no report for {}", file.display());
    lines
}

/// Numbers out (byte offsets and lengths change when a value is replaced by its marker).
fn normalized(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut digits = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !digits {
                out.push('N');
            }
            digits = true;
        } else {
            digits = false;
            out.push(c);
        }
    }
    out
}

/// Calls `f(object, path)` for every JSON object in `v`, depth first.
fn each_object<'v>(v: &'v Value, path: &str, f: &mut dyn FnMut(&'v Value, &str)) {
    match v {
        Value::Object(m) => {
            f(v, path);
            for (k, c) in m {
                let label = c.get("label").and_then(Value::as_str).unwrap_or(k);
                each_object(c, &format!("{path}/{label}"), f);
            }
        }
        Value::Array(items) => {
            for c in items {
                let label = c.get("label").and_then(Value::as_str).unwrap_or("");
                each_object(c, &format!("{path}/{label}"), f);
            }
        }
        _ => {}
    }
}

/// What a reader of a report would call a problem, per report line: error and warning
/// findings, decoders that failed, and error nodes, all with numbers normalized.
fn problems(report: &[Value]) -> std::collections::BTreeSet<(usize, String)> {
    let mut out = std::collections::BTreeSet::new();
    for (i, line) in report.iter().enumerate() {
        each_object(line, "", &mut |o, path| {
            if let (Some(sev), Some(msg)) = (
                o.get("severity").and_then(Value::as_str),
                o.get("message").and_then(Value::as_str),
            ) && matches!(sev, "error" | "warning")
            {
                out.insert((i, format!("{sev}: {}", normalized(msg))));
            }
            if let Some(e) = o.get("result").and_then(|r| r.get("err")) {
                out.insert((i, format!("decode error: {}", normalized(&e.to_string()))));
            }
            if o.get("kind").and_then(Value::as_str) == Some("error") {
                let value = o.get("value").and_then(Value::as_str).unwrap_or("");
                out.insert((
                    i,
                    format!("error node {}: {}", normalized(path), normalized(value)),
                ));
            }
        });
    }
    out
}

/// The redacted report has no problem the original lacks, no finding that quotes a marker, and
/// every value that is a marker is shown as a secret that says it was redacted.
fn assert_analyzes_as_cleanly(original: &[Value], redacted: &[Value]) {
    assert_eq!(original.len(), redacted.len());
    let before = problems(original);
    let new: Vec<_> = problems(redacted).difference(&before).cloned().collect();
    assert!(
        new.is_empty(),
        "problems only in the redacted copy: {new:#?}"
    );
    let mut markers = 0;
    for (i, line) in redacted.iter().enumerate() {
        each_object(line, "", &mut |o, path| {
            if let Some(msg) = o.get("message").and_then(Value::as_str) {
                assert!(
                    !msg.contains("«redacted") && !msg.contains("REDACTED-"),
                    "line {i}: a finding quotes a marker: {msg}"
                );
            }
            let value = o.get("value").and_then(Value::as_str).unwrap_or("");
            if idscope_decoders::secrets::redaction_marker(value).is_some() {
                markers += 1;
                assert_eq!(o["kind"], "secret", "line {i} {path}: {o}");
                let note = o.get("note").and_then(Value::as_str).unwrap_or("");
                assert!(
                    note.starts_with(idscope_decoders::secrets::REDACTED_NOTE),
                    "line {i} {path}: {note}"
                );
            }
        });
    }
    assert!(markers > 0, "no marker in the redacted report");
}

/// The flows of a HAR whose request URL contains `path`, as (request body, response body).
fn bodies(entries: &[Value], path: &str) -> Vec<(String, String)> {
    entries
        .iter()
        .filter(|e| e["request"]["url"].as_str().unwrap_or("").contains(path))
        .map(|e| {
            let text = |v: &Value| v.as_str().unwrap_or("").to_string();
            (
                text(&e["request"]["postData"]["text"]),
                text(&e["response"]["content"]["text"]),
            )
        })
        .collect()
}

#[test]
fn a_redacted_demo_recording_keeps_public_values_and_analyzes_as_cleanly_as_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("demo.har");
    let transport = dir.path().join("transport.pem");
    let o = idscope(
        &[
            "demo",
            "--headless",
            "--seed",
            "7",
            "-w",
            original.to_str().unwrap(),
            "--transport-key-out",
            transport.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let redacted = dir.path().join("shareable.har");
    let o = redact(&original, &redacted, &[]);
    assert!(o.status.success(), "{}", stderr(&o));

    // Only credentials went: the public values of the same flows are still there.
    let (before, after) = (entries_of(&original), entries_of(&redacted));
    let rstr = &bodies(&after, "/adfs/services/trust/13/usernamemixed")[0].1;
    for kept in [
        "TokenType>urn:oasis:names:tc:SAML:1.0:assertion</",
        "KeyType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer</",
        "RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</",
        "Address>urn:federation:MicrosoftOnline</",
        "ValueType=\"http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.0#SAMLAssertionID\"",
    ] {
        assert!(rstr.contains(kept), "{kept} lost: {rstr}");
    }
    assert!(
        rstr.contains("SignatureValue>«redacted:xml_signature:"),
        "{rstr}"
    );
    let autopost = bodies(&after, "/adfs/ls/")
        .into_iter()
        .map(|(_, resp)| resp)
        .find(|r| r.contains("RequestSecurityTokenResponse"))
        .expect("the ADFS auto-POST page");
    assert!(
        autopost.contains("TokenType&gt;urn:oasis:names:tc:SAML:1.0:assertion&lt;"),
        "{autopost}"
    );
    let sp_config = &bodies(&after, "/ServiceProviderConfig")[0].1;
    assert!(
        sp_config.contains("\"changePassword\":{\"supported\":false}"),
        "{sp_config}"
    );
    for (path, public) in [
        ("/EnrollmentServer/device/", "TransportKey"),
        ("/scim/v2/Users/.deltaToken", "deltaToken"),
    ] {
        let value_of = |entries: &[Value]| {
            let (req, resp) = bodies(entries, path)[0].clone();
            let doc: Value = serde_json::from_str(if req.is_empty() { &resp } else { &req })
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            let mut found = None;
            each_object(&doc, "", &mut |o, _| {
                if let Some(v) = o.get(public).and_then(Value::as_str) {
                    found = Some(v.to_string());
                }
            });
            found.unwrap_or_else(|| panic!("no {public} in {path}"))
        };
        assert_eq!(value_of(&after), value_of(&before), "{public} changed");
    }
    let location = |entries: &[Value]| {
        entries
            .iter()
            .flat_map(|e| e["response"]["headers"].as_array().unwrap().clone())
            .filter(|h| {
                h["name"]
                    .as_str()
                    .unwrap_or("")
                    .eq_ignore_ascii_case("location")
            })
            .filter_map(|h| h["value"].as_str().map(str::to_string))
            .find(|l| l.contains("session_state="))
            .unwrap()
    };
    let state = |l: &str| l.split("session_state=").nth(1).unwrap().to_string();
    assert_eq!(state(&location(&after)), state(&location(&before)));
    assert!(
        !location(&after).contains("code=0."),
        "the code stays redacted"
    );

    // The analysis of the copy: nothing the original does not have, markers shown as redacted,
    // signatures not checked because their value was removed; with and without the key that
    // opens the PRT traffic.
    for extra in [&[][..], &["--key", transport.to_str().unwrap()][..]] {
        let (a, b) = (
            analyze_json(&original, extra),
            analyze_json(&redacted, extra),
        );
        assert_analyzes_as_cleanly(&a, &b);
        let text = serde_json::to_string(&b).unwrap();
        assert!(
            text.contains(
                "not checked: signature not checked: the signature value was removed by redaction"
            ),
            "{extra:?}"
        );
        assert!(!text.contains("not valid base64"), "{extra:?}");
    }
}

#[test]
fn the_planted_capture_analyzes_as_cleanly_after_redaction() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.har", &planted().0);
    let output = dir.path().join("out.har");
    let o = redact(&input, &output, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_analyzes_as_cleanly(&analyze_json(&input, &[]), &analyze_json(&output, &[]));
}
