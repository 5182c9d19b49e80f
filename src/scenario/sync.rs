//! The AAD Connect sync cycle (protocols.md §3.4, §8.2 step 1): HRD v1 for the sync account
//! (Managed), ROPC for AAD Graph (v1 answer with string numbers and an unsigned id_token), then
//! the provisioning calls in msbin1, each following up to three `BindingRedirectionFault`s:
//! ReadBack (full), GetCompanyConfiguration, UpdateDirSyncConfiguration,
//! ProvisionAzureADSyncObjects (a user with SourceAnchor `lHh/rEL830q6/mStDnD4uw==`, a group, a
//! device with a userCertificate), FinalizeExport, ProvisionCredentials and a delta ReadBack with
//! the watermark of the first one. Every msbin1 answer is decoded with idscope's decoder.
//!
//! The `sync-app` variant ([`run_app`]) signs in as Entra Connect Sync 2.5 does with application
//! identity: client credentials for the Microsoft Entra AD Synchronization Service with a client
//! assertion signed by the sync application's certificate, then the same provisioning calls.
//!
//! Not responsible for: HTTP plumbing (mod.rs), the server side (the fixture's `sync_api`).

use idscope_decoders::Limits;
use idscope_decoders::soap::nbfx;
use idscope_decoders::xml::tree::Document;
use serde_json::Value;

use super::{Client, StepError, Steps};
use crate::testbed::certs::client_credentials_form;
use crate::testbed::{
    AAD_GRAPH, AppCertificate, Assertion, AssertionAlg, CLOUD_USERS, LOGIN_HOST,
    SYNC_APP_CLIENT_ID, SYNC_HOST, SYNC_ROLE, SYNC_SERVICE_APP, TENANT_DOMAIN, TENANT_ID,
};

/// The user the cycle provisions (its SourceAnchor is the ImmutableID the ADFS asserts).
pub const ALICE_ANCHOR: &str = "lHh/rEL830q6/mStDnD4uw==";
const C: &str = "http://schemas.microsoft.com/online/aws/change/2010/01";
const ACTION: &str =
    "http://schemas.microsoft.com/online/aws/change/2010/01/IProvisioningWebService/";

/// Plays the sync cycle.
pub async fn run(client: &Client, steps: &mut Steps<'_>) -> Result<(), StepError> {
    let (upn, password, _) = CLOUD_USERS.first().copied().unwrap_or(("", "", ""));
    let realm = client
        .get(&format!(
            "https://{LOGIN_HOST}/common/UserRealm/{}?api-version=1.0",
            upn.replace('@', "%40")
        ))
        .await
        .map_err(|e| steps.fail("hrd-v1", e))?;
    let account_type = realm.json().and_then(|j| {
        j.get("account_type")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    if account_type.as_deref() != Some("Managed") {
        return Err(steps.fail(
            "hrd-v1",
            format!(
                "expected account_type Managed, got {account_type:?} (HTTP {})",
                realm.status
            ),
        ));
    }
    steps.ok("hrd-v1", format!("{upn}: Managed"));

    let tok = client
        .post_form(
            &format!("https://{LOGIN_HOST}/{TENANT_DOMAIN}/oauth2/token"),
            &[
                ("resource", AAD_GRAPH),
                ("client_id", "1b730954-1685-4b74-9bfd-dac224a7b894"),
                ("grant_type", "password"),
                ("username", upn),
                ("password", password),
                ("scope", "openid"),
            ],
        )
        .await
        .map_err(|e| steps.fail("ropc", e))?;
    let (token, j) = access_token(steps, "ropc", &tok)?;
    let id_token = j.get("id_token").and_then(Value::as_str).unwrap_or("");
    if !j.get("expires_in").is_some_and(Value::is_string) || !id_token.ends_with('.') {
        return Err(steps.fail(
            "ropc",
            "v1 answer must carry string numbers and an unsigned id_token",
        ));
    }
    steps.ok(
        "ropc",
        "v1 token for https://graph.windows.net (unsigned id_token)",
    );
    cycle(client, steps, &token).await
}

/// Plays the sync cycle of Entra Connect Sync with application identity: a client-credentials
/// token for the Microsoft Entra AD Synchronization Service, authenticated with a client
/// assertion signed by the sync application's certificate (PS256 with `x5t#S256`, to the v2
/// endpoint, as MSAL signs it), then the same provisioning calls.
pub async fn run_app(client: &Client, steps: &mut Steps<'_>) -> Result<(), StepError> {
    let cert = AppCertificate::sync_app().map_err(|e| steps.fail("app-token", format!("{e:#}")))?;
    let endpoint = format!("https://{LOGIN_HOST}/{TENANT_ID}/oauth2/v2.0/token");
    let jti = random_guid().map_err(|e| steps.fail("app-token", e))?;
    let assertion = cert
        .sign_assertion(&Assertion {
            alg: AssertionAlg::Ps256,
            aud: &endpoint,
            client_id: SYNC_APP_CLIENT_ID,
            jti: &jti,
            iat: crate::testbed::unix(std::time::SystemTime::now()),
            lifetime: 600,
            x5c: false,
        })
        .map_err(|e| steps.fail("app-token", format!("{e:#}")))?;
    let form = client_credentials_form(SYNC_APP_CLIENT_ID, SYNC_SERVICE_APP, &assertion, true);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let tok = client
        .post_form(&endpoint, &fields)
        .await
        .map_err(|e| steps.fail("app-token", e))?;
    let (token, _) = access_token(steps, "app-token", &tok)?;
    let roles = super::jwt_payload(&token)
        .and_then(|c| c.get("roles").cloned())
        .unwrap_or(Value::Null);
    if !roles
        .as_array()
        .is_some_and(|r| r.iter().any(|x| x == SYNC_ROLE))
    {
        return Err(steps.fail(
            "app-token",
            format!("the token's roles are {roles}, not {SYNC_ROLE}"),
        ));
    }
    steps.ok(
        "app-token",
        format!("v2 token for {SYNC_SERVICE_APP} with role {SYNC_ROLE} (PS256 client assertion)"),
    );
    cycle(client, steps, &token).await
}

/// A version-4-shaped GUID from the system RNG (a `jti`).
fn random_guid() -> Result<String, String> {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| "the system RNG failed".to_string())?;
    Ok(crate::testbed::guid(b))
}

/// The access token of a token endpoint's answer, or the failure of `step` with the answer.
fn access_token(
    steps: &Steps<'_>,
    step: &str,
    answer: &super::Answer,
) -> Result<(String, Value), StepError> {
    let j = answer.json().unwrap_or(Value::Null);
    match j.get("access_token").and_then(Value::as_str) {
        Some(t) => Ok((t.to_string(), j.clone())),
        None => Err(steps.fail(step, format!("HTTP {}: {}", answer.status, answer.text()))),
    }
}

/// The provisioning calls of a sync cycle with `token` as the BearerToken.
async fn cycle(client: &Client, steps: &mut Steps<'_>, token: &str) -> Result<(), StepError> {
    let token = token.to_string();
    let mut host = SYNC_HOST.to_string();
    let full = call(client, steps, &mut host, &token, "ReadBackAzureADSyncObjects2", "<includeLicenseInformation>false</includeLicenseInformation><inputCookie i:nil=\"true\"/><isFullSync>true</isFullSync>").await?;
    let cookie = local_text(&full, "OutputCookie")
        .ok_or_else(|| steps.fail("readback-full", "no OutputCookie in the answer"))?;
    steps.ok(
        "readback-full",
        format!(
            "{} objects, watermark {cookie}",
            count(&full, "AzureADSyncObject")
        ),
    );

    let cfg = call(
        client,
        steps,
        &mut host,
        &token,
        "GetCompanyConfiguration",
        "<includeLicenseInformation>false</includeLicenseInformation>",
    )
    .await?;
    let tenant = local_text(&cfg, "TenantId").unwrap_or_default();
    steps.ok("get-company-configuration", format!("TenantId {tenant}"));

    call(
        client,
        steps,
        &mut host,
        &token,
        "UpdateDirSyncConfiguration",
        "",
    )
    .await?;
    steps.ok("update-dirsync-configuration", "acknowledged");

    let res = call(
        client,
        steps,
        &mut host,
        &token,
        "ProvisionAzureADSyncObjects",
        &provision_body(),
    )
    .await?;
    let codes: Vec<String> = all_local_text(&res, "ResultCode");
    if codes.len() != 3 || codes.iter().any(|c| c != "Success") {
        return Err(steps.fail(
            "provision-objects",
            format!("expected 3 × Success, got {codes:?}"),
        ));
    }
    steps.ok(
        "provision-objects",
        format!(
            "user {ALICE_ANCHOR}, group, device: {}",
            all_local_text(&res, "CloudAnchor").join(", ")
        ),
    );

    call(
        client,
        steps,
        &mut host,
        &token,
        "FinalizeExport",
        "<totalExported>3</totalExported><successfulExportCount>3</successfulExportCount>",
    )
    .await?;
    steps.ok("finalize-export", "3/3");

    let creds = call(client, steps, &mut host, &token, "ProvisionCredentials", &format!("<request xmlns:b=\"http://schemas.datacontract.org/2004/07/Microsoft.Online.Coexistence.Schema\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><b:RequestItems><b:SyncCredentialsChangeItem><b:ChangeDate>2024-01-01T00:00:00Z</b:ChangeDate><b:CloudAnchor i:nil=\"true\"/><b:CredentialData>v1;PPH1_MD4,0a1b2c3d4e5f60718293,1000,{};</b:CredentialData><b:ForcePasswordChangeOnLogon>false</b:ForcePasswordChangeOnLogon><b:SourceAnchor>{ALICE_ANCHOR}</b:SourceAnchor><b:WindowsLegacyCredentials i:nil=\"true\"/><b:WindowsSupplementalCredentials i:nil=\"true\"/></b:SyncCredentialsChangeItem></b:RequestItems></request>", "ab".repeat(32))).await?;
    if all_local_text(&creds, "Result") != ["0"] {
        return Err(steps.fail("provision-credentials", "expected one Result 0"));
    }
    steps.ok("provision-credentials", "password hash accepted");

    let delta = call(client, steps, &mut host, &token, "ReadBackAzureADSyncObjects2", &format!("<includeLicenseInformation>false</includeLicenseInformation><inputCookie>{cookie}</inputCookie><isFullSync>false</isFullSync>")).await?;
    let n = count(&delta, "AzureADSyncObject");
    if n != 3 || !delta.contains(ALICE_ANCHOR) {
        return Err(steps.fail(
            "readback-delta",
            format!("expected the 3 provisioned objects as changes, got {n}"),
        ));
    }
    steps.ok(
        "readback-delta",
        format!("{n} changed objects since {cookie}"),
    );
    Ok(())
}

fn provision_body() -> String {
    let kv = |k: &str, t: &str, v: &str| {
        format!(
            "<c:KeyValueOfstringanyType><c:Key>{k}</c:Key><c:Value i:type=\"{t}\">{v}</c:Value></c:KeyValueOfstringanyType>"
        )
    };
    let obj = |props: String, ty: &str| {
        format!(
            "<b:AzureADSyncObject><b:PropertyValues xmlns:c=\"http://schemas.microsoft.com/2003/10/Serialization/Arrays\">{props}</b:PropertyValues><b:SyncObjectType>{ty}</b:SyncObjectType><b:SyncOperation>Add</b:SyncOperation></b:AzureADSyncObject>"
        )
    };
    let user = [
        kv("SourceAnchor", "d:string", ALICE_ANCHOR),
        kv("accountEnabled", "d:boolean", "true"),
        kv("displayName", "d:string", "Alice Example"),
        kv("userPrincipalName", "d:string", "alice@contoso.test"),
        kv("countryCode", "d:long", "276"),
        kv(
            "onPremiseSecurityIdentifier",
            "d:base64Binary",
            "AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoUQQAAA==",
        ),
        kv(
            "proxyAddresses",
            "c:ArrayOfstring",
            "<c:string>SMTP:alice@contoso.test</c:string>",
        ),
    ]
    .concat();
    let group = [
        kv("SourceAnchor", "d:string", "W2x9jjlKgUKfDtHCs6SVhg=="),
        kv("displayName", "d:string", "Sales EMEA"),
        kv("securityEnabled", "d:boolean", "true"),
        kv(
            "member",
            "c:ArrayOfstring",
            &format!("<c:string>{ALICE_ANCHOR}</c:string>"),
        ),
    ]
    .concat();
    let device = [
        kv("SourceAnchor", "d:string", "RFVmdyIzEUGgALvM3e7/AA=="),
        kv("deviceId", "d:base64Binary", "eoucDV5vPE2bKh8OnYx7ag=="),
        kv("displayName", "d:string", "WKS-0042"),
        kv(
            "userCertificate",
            "c:ArrayOfbase64Binary",
            "<c:base64Binary>MIIBAjCBqaADAgECAgEB</c:base64Binary>",
        ),
    ]
    .concat();
    format!(
        "<syncRequest xmlns:b=\"http://schemas.microsoft.com/online/aws/change/2014/06\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:d=\"http://www.w3.org/2001/XMLSchema\"><b:SyncObjects>{}{}{}</b:SyncObjects></syncRequest>",
        obj(user, "User"),
        obj(group, "Group"),
        obj(device, "Device")
    )
}

/// The request envelope of protocols.md §3.2.
pub fn request_envelope(op: &str, host: &str, token: &str, params: &str, tracking: &str) -> String {
    format!(
        "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header><a:Action s:mustUnderstand=\"1\">{ACTION}{op}</a:Action><SyncToken s:role=\"urn:microsoft.online.administrativeservice\" xmlns=\"urn:microsoft.online.administrativeservice\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><ApplicationId xmlns=\"{C}\">1651564e-7ce4-4d99-88be-0a65050d8dc3</ApplicationId><BearerToken xmlns=\"{C}\">{token}</BearerToken><ClientVersion xmlns=\"{C}\">8.0</ClientVersion><DirSyncBuildNumber xmlns=\"{C}\">2.2.8.0</DirSyncBuildNumber><FIMBuildNumber xmlns=\"{C}\">2.2.8.0</FIMBuildNumber><IsInstalledOnDC xmlns=\"{C}\">False</IsInstalledOnDC><IssueDateTime xmlns=\"{C}\">0001-01-01T00:00:00</IssueDateTime><LanguageId xmlns=\"{C}\">en-US</LanguageId><LiveToken xmlns=\"{C}\"/><ProtocolVersion xmlns=\"{C}\">2.0</ProtocolVersion><RichCoexistenceEnabled xmlns=\"{C}\">False</RichCoexistenceEnabled><TrackingId xmlns=\"{C}\">{tracking}</TrackingId></SyncToken><a:MessageID>urn:uuid:{tracking}</a:MessageID><a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo><a:To s:mustUnderstand=\"1\">https://{host}/provisioningservice.svc</a:To></s:Header><s:Body><{op} xmlns=\"{C}\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">{params}</{op}></s:Body></s:Envelope>"
    )
}

/// One provisioning call with redirect handling (AADInternals caps it at 3). Returns the
/// decoded XML of the successful answer.
pub async fn call(
    client: &Client,
    steps: &Steps<'_>,
    host: &mut String,
    token: &str,
    op: &str,
    params: &str,
) -> Result<String, StepError> {
    let step = step_name(op);
    for attempt in 0..4 {
        let tracking = format!("5b1f0a7e-2c3d-4e5f-8a9b-{:012x}", attempt + op.len() * 16);
        let xml = request_envelope(op, host, token, params, &tracking);
        let body = nbfx::encode(&xml, nbfx::Style::XmlDocument)
            .map_err(|e| steps.fail(&step, format!("encoding the request: {e}")))?;
        let ans = client
            .send(
                client
                    .http()
                    .post(format!("https://{host}/provisioningservice.svc"))
                    .header("content-type", "application/soap+msbin1")
                    .header(
                        "x-ms-aadmsods-appid",
                        "1651564e-7ce4-4d99-88be-0a65050d8dc3",
                    )
                    .header("x-ms-aadmsods-apiaction", op)
                    .header("client-request-id", tracking.as_str())
                    .body(body),
            )
            .await
            .map_err(|e| steps.fail(&step, e))?;
        let decoded = nbfx::decode(&ans.body, &nbfx::DecodeOptions::default()).map_err(|e| {
            steps.fail(
                &step,
                format!("HTTP {}: answer is not msbin1: {e}", ans.status),
            )
        })?;
        if let Some(url) = local_text(&decoded.xml, "Url")
            .filter(|_| decoded.xml.contains("BindingRedirectionFault"))
        {
            let next = url
                .strip_prefix("https://")
                .and_then(|r| r.split('/').next())
                .unwrap_or("")
                .to_string();
            if next.is_empty() {
                return Err(steps.fail(&step, format!("redirect fault with an unusable Url {url}")));
            }
            *host = next;
            continue;
        }
        if ans.status != 200 {
            let why = local_text(&decoded.xml, "ErrorDescription")
                .or_else(|| local_text(&decoded.xml, "Text"))
                .unwrap_or_else(|| decoded.xml.clone());
            return Err(steps.fail(&step, format!("HTTP {}: {why}", ans.status)));
        }
        return Ok(decoded.xml);
    }
    Err(steps.fail(&step, "more than 3 redirect faults"))
}

fn step_name(op: &str) -> String {
    match op {
        "ReadBackAzureADSyncObjects2" => "readback".into(),
        other => {
            let mut s = String::new();
            for (i, c) in other.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    s.push('-');
                }
                s.push(c.to_ascii_lowercase());
            }
            s
        }
    }
}

/// Text of the first element with this local name.
pub fn local_text(xml: &str, local: &str) -> Option<String> {
    all_local_text(xml, local).into_iter().next()
}

fn all_local_text(xml: &str, local: &str) -> Vec<String> {
    let Ok(doc) = Document::parse(xml, &Limits::default()) else {
        return Vec::new();
    };
    let Some(root) = doc.root() else {
        return Vec::new();
    };
    doc.descendants(root)
        .filter(|n| doc.is_element(*n) && doc.local_name(*n) == local)
        .map(|n| doc.text_content(n).trim().to_string())
        .collect()
}

fn count(xml: &str, local: &str) -> usize {
    all_local_text(xml, local).len()
}
