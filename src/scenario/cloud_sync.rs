//! Cloud sync over SCIM (protocols.md §6, §8.2 step 3): a client_credentials token for the SCIM
//! host → ServiceProviderConfig → `GET /Users?filter=userName eq …` (empty) → POST User → PATCH
//! (`Replace active "False"`, Entra's capitalised op and string boolean) → POST Group → PATCH
//! members (`Add`) → `.deltaToken` → a change → `.delta` (the change) → `.delta` (nothing).
//!
//! Not responsible for: HTTP plumbing (mod.rs), the server side (the fixture's `scim`).

use serde_json::{Value, json};

use super::{Answer, Client, StepError, Steps};
use crate::testbed::{CONFIDENTIAL_CLIENT, LOGIN_HOST, SCIM_AUDIENCE, SCIM_HOST, TENANT_ID};

const SCIM_CT: &str = "application/scim+json";
/// The user the scenario provisions.
pub const SCIM_USER: &str = "carol@contoso.test";

async fn call(
    client: &Client,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> Result<Answer, String> {
    let url = format!("https://{SCIM_HOST}/scim/v2{path}");
    let mut rb = client
        .http()
        .request(method, url)
        .bearer_auth(token)
        .header("accept", SCIM_CT);
    if let Some(b) = body {
        rb = rb.header("content-type", SCIM_CT).body(b.to_string());
    }
    client.send(rb).await
}

fn expect(ans: &Answer, status: u16) -> Result<Value, String> {
    if ans.status != status {
        return Err(format!(
            "HTTP {} (expected {status}): {}",
            ans.status,
            ans.text()
        ));
    }
    Ok(ans.json().unwrap_or(Value::Null))
}

/// Gets a bearer token for the SCIM host (client_credentials of the fixture's confidential
/// client).
pub async fn scim_token(client: &Client) -> Result<String, String> {
    let ans = client
        .post_form(
            &format!("https://{LOGIN_HOST}/{TENANT_ID}/oauth2/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CONFIDENTIAL_CLIENT.0),
                ("client_secret", CONFIDENTIAL_CLIENT.1),
                ("resource", SCIM_AUDIENCE),
            ],
        )
        .await?;
    expect(&ans, 200)?
        .get("access_token")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("no access_token: {}", ans.text()))
}

/// Plays the cloud-sync scenario.
pub async fn run(client: &Client, steps: &mut Steps<'_>) -> Result<(), StepError> {
    use reqwest::Method;
    let token = scim_token(client)
        .await
        .map_err(|e| steps.fail("scim-token", e))?;
    steps.ok("scim-token", "client_credentials for the SCIM host");

    let spc = call(client, &token, Method::GET, "/ServiceProviderConfig", None)
        .await
        .and_then(|a| expect(&a, 200))
        .map_err(|e| steps.fail("service-provider-config", e))?;
    if spc.pointer("/patch/supported") != Some(&json!(true)) {
        return Err(steps.fail("service-provider-config", "PATCH not supported"));
    }
    steps.ok("service-provider-config", "patch supported");

    let filter: String =
        form_urlencoded::byte_serialize(format!("userName eq \"{SCIM_USER}\"").as_bytes())
            .collect();
    let found = call(
        client,
        &token,
        Method::GET,
        &format!("/Users?filter={filter}"),
        None,
    )
    .await
    .and_then(|a| expect(&a, 200))
    .map_err(|e| steps.fail("filter-user", e))?;
    if found.get("totalResults") != Some(&json!(0)) {
        return Err(steps.fail("filter-user", format!("expected no user: {found}")));
    }
    steps.ok("filter-user", format!("userName eq {SCIM_USER}: 0 results"));

    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "b1f8c2d4-cloud-sync-anchor", "userName": SCIM_USER, "active": true,
        "displayName": "Carol Example",
        "name": {"givenName": "Carol", "familyName": "Example", "formatted": "Carol Example"},
        "emails": [{"primary": true, "type": "work", "value": SCIM_USER}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "IT"},
    });
    let created = call(client, &token, Method::POST, "/Users", Some(&user))
        .await
        .and_then(|a| expect(&a, 201))
        .map_err(|e| steps.fail("create-user", e))?;
    let uid = created
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    steps.ok("create-user", format!("id {uid}"));

    // Entra's historical shape: capitalised op, string boolean.
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let patched = call(
        client,
        &token,
        Method::PATCH,
        &format!("/Users/{uid}"),
        Some(&patch),
    )
    .await
    .and_then(|a| expect(&a, 200))
    .map_err(|e| steps.fail("patch-user", e))?;
    if patched.get("active") != Some(&json!(false)) {
        return Err(steps.fail("patch-user", format!("active not false: {patched}")));
    }
    steps.ok("patch-user", "Replace active \"False\" → false");

    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Cloud Sync Group", "externalId": "grp-cloud-sync-1", "members": []});
    let g = call(client, &token, Method::POST, "/Groups", Some(&group))
        .await
        .and_then(|a| expect(&a, 201))
        .map_err(|e| steps.fail("create-group", e))?;
    let gid = g
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    steps.ok("create-group", format!("id {gid}"));

    let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Add", "path": "members", "value": [{"value": uid}]}]});
    let g = call(
        client,
        &token,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(&add),
    )
    .await
    .and_then(|a| expect(&a, 200))
    .map_err(|e| steps.fail("patch-group-members", e))?;
    if g.pointer("/members/0/value").and_then(Value::as_str) != Some(uid.as_str()) {
        return Err(steps.fail("patch-group-members", format!("member missing: {g}")));
    }
    steps.ok("patch-group-members", "Add members");

    let tok = call(client, &token, Method::GET, "/Users/.deltaToken", None)
        .await
        .and_then(|a| expect(&a, 200))
        .map_err(|e| steps.fail("delta-token", e))?;
    let delta_token = tok
        .get("deltaToken")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    steps.ok("delta-token", "watermark obtained");

    let change = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "value": {"displayName": "Carol Q. Example", "active": "True"}}]});
    call(
        client,
        &token,
        Method::PATCH,
        &format!("/Users/{uid}"),
        Some(&change),
    )
    .await
    .and_then(|a| expect(&a, 200))
    .map_err(|e| steps.fail("patch-pathless", e))?;
    steps.ok("patch-pathless", "path-less Replace");

    let req = |t: &str| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:delta:request"], "deltaToken": t});
    let d = call(
        client,
        &token,
        Method::POST,
        "/Users/.delta",
        Some(&req(&delta_token)),
    )
    .await
    .and_then(|a| expect(&a, 200))
    .map_err(|e| steps.fail("delta-changes", e))?;
    let res = d
        .get("Resources")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if res.len() != 1 || res[0].get("id").and_then(Value::as_str) != Some(uid.as_str()) {
        return Err(steps.fail("delta-changes", format!("expected one change: {d}")));
    }
    let next = d
        .get("deltaToken")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    steps.ok("delta-changes", "1 modified user");

    let d = call(
        client,
        &token,
        Method::POST,
        "/Users/.delta",
        Some(&req(&next)),
    )
    .await
    .and_then(|a| expect(&a, 200))
    .map_err(|e| steps.fail("delta-empty", e))?;
    if d.get("Resources") != Some(&json!([])) {
        return Err(steps.fail("delta-empty", format!("expected no changes: {d}")));
    }
    steps.ok("delta-empty", "no changes");
    Ok(())
}
