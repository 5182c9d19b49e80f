//! The secrets policy: which header names, parameter/JSON/XML element names and which values are
//! credentials, and how a secret is masked for display. Every part of idscope that decides
//! "is this a credential?" asks this module: the decoders' [`Kind::Secret`] marks, redaction and
//! its residual leak detector, replay's credential handling and the display masks of the command
//! line and the TUI.
//!
//! Names are compared after [`norm`] (lowercase, without `-`, `_`, `.`, `:` and spaces), so
//! `Refresh-Token`, `refresh_token` and `refreshToken` are one name. [`classify`] gives a name's
//! [`NameClass`]; [`is_secret_name`] says whether the value under a name is a credential whatever
//! it looks like; [`is_secret_element`] does the same for an XML element's text;
//! [`header_class`] sorts header names; [`is_credential_value`], [`contains_pem_private_key`],
//! [`is_live_jws_signature`] and [`is_high_entropy`] look at values. The markers redaction
//! writes in place of credentials, and how decoders recognise them, are in [`markers`]
//! ([`redaction_marker`]).

mod markers;

pub use markers::{
    FINGERPRINT_HEX, REDACTED_JWE_PREFIX, REDACTED_NOTE, REDACTED_SIGNATURE_PREFIX, Redacted,
    TOKEN_FINGERPRINT_HEX, body_placeholder, contains_redaction_marker, is_redacted,
    is_redacted_token, mark_redacted, password_placeholder, placeholder, redacted_body,
    redacted_jwe, redacted_jws_signature, redacted_node, redaction_marker,
};

use crate::view::{Kind, Node};

/// Lowercase without `-`, `_`, `.`, `:`, `$`, `@` and spaces, so `Refresh-Token`,
/// `refresh_token` and `refreshToken` compare equal, and so do `$skiptoken` and `skipToken`.
pub fn norm(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '-' | '_' | '.' | ' ' | ':' | '$' | '@'))
        .flat_map(char::to_lowercase)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Names

/// Passwords and one-time codes (normalized names; names ending in `password` or `passwd` too).
const PASSWORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pin",
    "otp",
    "passcode",
    "newpassword",
    "oldpassword",
    "currentpassword",
    "confirmpassword",
    "passwordconfirm",
];

/// Credentials removed whole even when JWT-shaped, with the kind a redaction placeholder names.
const CREDENTIALS: &[(&str, &str)] = &[
    ("refreshtoken", "refresh_token"),
    ("clientsecret", "client_secret"),
    ("code", "code"),
    ("devicecode", "device_code"),
    ("usercode", "user_code"),
    ("codeverifier", "code_verifier"),
    ("sessionkeyjwe", "session_key"),
    ("sessionkey", "session_key"),
    ("prt", "prt"),
    ("primaryrefreshtoken", "prt"),
    ("xmsrefreshtokencredential", "prt"),
    ("xmsdevicecredential", "device_credential"),
    ("token", "token"),
    ("samlart", "saml_artifact"),
    ("signature", "signature"),
    ("sig", "signature"),
    ("secret", "secret"),
    ("apikey", "api_key"),
    ("privatekey", "private_key"),
    ("clientkey", "session_key"),
    ("credentialdata", "credential_data"),
    ("csrftoken", "csrf"),
    ("xsrftoken", "csrf"),
    ("sft", "flow_token"),
    ("sctx", "flow_context"),
    ("canary", "csrf"),
    ("apicanary", "csrf"),
    // Azure Service Bus: the relay key of a connector's bootstrap and the token made with it.
    ("sharedaccesskey", "shared_access_key"),
    ("sharedaccesssignature", "sas_token"),
];

/// Tokens whose claims are worth keeping (the JWS rule applies to them).
const TOKENS: &[&str] = &[
    "accesstoken",
    "idtoken",
    "assertion",
    "clientassertion",
    "request",
    "bearertoken",
    "idtokenhint",
    "logouttoken",
    "actoken",
];

/// SAML protocol messages carried in a parameter.
const SAML_MESSAGES: &[&str] = &["samlrequest", "samlresponse", "wresult"];

/// Personal data (not credentials).
const PII: &[&str] = &[
    "upn",
    "email",
    "emails",
    "mail",
    "name",
    "givenname",
    "familyname",
    "surname",
    "uniquename",
    "preferredusername",
    "oid",
    "sub",
    "ipaddr",
    "username",
    "loginhint",
    "userprincipalname",
    "displayname",
    "onpremsid",
    "verifiedprimaryemail",
    "verifiedsecondaryemail",
    "idpemail",
];

/// Names whose value is public whatever words they contain (normalized): OIDC session state (a
/// salted hash the relying party's page reads), error links, delta and paging cursors (a client
/// sends them back beside its own credentials; they grant nothing) and public keys (a device's
/// transport key).
const PUBLIC: &[&str] = &[
    "sessionstate",
    "erroruri",
    "deltatoken",
    "skiptoken",
    "continuationtoken",
    "nextpagetoken",
    "pagetoken",
    "transportkey",
    "publickey",
    "pubkey",
];

/// Endings of names (normalized) whose value names a kind, a method or a capability, never a
/// credential: `token_type`, `TokenType`, `KeyType`, `issued_token_type`, `ValueType`,
/// `EncodingType`, `SignatureMethod`, `token_endpoint_auth_methods_supported`, `…PublicKey`, and
/// paging links (`@odata.nextLink`, `@odata.deltaLink`).
const PUBLIC_ENDINGS: &[&str] = &[
    "type",
    "types",
    "method",
    "methods",
    "supported",
    "publickey",
    "nextlink",
    "deltalink",
];

/// Credentials that the user is shown on purpose: the device flow's `user_code` is printed on
/// screen for the user to type, so views show it, while shared captures still lose it.
const SHOWN_CREDENTIALS: &[&str] = &["usercode"];

/// Substrings that make a name secret-looking (security.md §1 "other headers").
const SECRET_PARTS: &[&str] = &[
    "token",
    "secret",
    "passw",
    "session",
    "credential",
    "signature",
    "apikey",
    "csrf",
    "xsrf",
];

/// What the value under a name (query key, form field, JSON member, claim, header parameter,
/// XML element) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameClass {
    /// A password or one-time code: never hashed, only its length may be told.
    Password,
    /// A credential removed whole even when it is JWT-shaped; the kind it is.
    Credential(&'static str),
    /// A token whose claims are worth keeping (a JWS keeps header and claims, loses its
    /// signature; anything opaque is a credential).
    Token,
    /// A SAML message (`SAMLRequest`, `SAMLResponse`, `wresult`).
    Saml,
    /// Personal data.
    Pii,
    /// A name that looks secret (`…token…`, `…secret…`, `…session…`, `…key`): a value under it
    /// is a credential when it looks like one ([`looks_like_credential`]).
    SecretLooking,
    /// A name whose value is public whatever words it contains (`token_type`, `TokenType`,
    /// `KeyType`, `session_state`, `deltaToken`, `error_uri`, `TransportKey` …): kept as it is.
    Public,
    /// Anything else.
    Plain,
}

impl NameClass {
    /// True for the classes whose value is a credential whatever it looks like.
    pub fn is_credential(self) -> bool {
        matches!(
            self,
            NameClass::Password | NameClass::Credential(_) | NameClass::Token
        )
    }
}

/// The private members of a JWK (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2): inside an object
/// that has a `kty`, these are key material, whatever their short names say elsewhere.
pub const JWK_PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The class of a member of a JWK (an object with `kty`): its private members are credentials
/// (`private_key`); the rest is classed by name as anywhere else.
pub fn classify_jwk_member(name: &str) -> NameClass {
    if JWK_PRIVATE_MEMBERS.contains(&name) {
        NameClass::Credential("private_key")
    } else {
        classify(name)
    }
}

/// The class of a name: passwords (`password, passwd, pwd, pin, otp, passcode`, names ending in
/// `password`/`passwd`), credentials removed whole (`refresh_token, client_secret, code,
/// device_code, user_code, code_verifier, session_key(_jwe), tgt_*`, names ending in `_secret`
/// or `api_key` …), tokens (`access_token, id_token, assertion, client_assertion, request,
/// BearerToken`, names ending in `token` or `assertion`), SAML messages, personal data, names
/// that look secret, public names (kinds, methods and capabilities: names ending in `type`,
/// `method`, `supported` …; session state, cursors, error links, public keys), and the rest.
pub fn classify(name: &str) -> NameClass {
    let n = norm(name);
    if PASSWORDS.contains(&n.as_str()) || n.ends_with("password") || n.ends_with("passwd") {
        return NameClass::Password;
    }
    if PUBLIC.contains(&n.as_str()) || PUBLIC_ENDINGS.iter().any(|e| n.ends_with(e)) {
        return NameClass::Public;
    }
    let lower = name.trim().to_ascii_lowercase();
    if lower.starts_with("tgt_") {
        return NameClass::Credential("tgt");
    }
    if let Some((_, kind)) = CREDENTIALS.iter().find(|(k, _)| *k == n) {
        return NameClass::Credential(kind);
    }
    if TOKENS.contains(&n.as_str()) {
        return NameClass::Token;
    }
    if SAML_MESSAGES.contains(&n.as_str()) {
        return NameClass::Saml;
    }
    if PII.contains(&n.as_str()) {
        return NameClass::Pii;
    }
    if lower.ends_with("_secret") {
        return NameClass::Credential("secret");
    }
    if n.ends_with("apikey") {
        return NameClass::Credential("api_key");
    }
    if n.ends_with("token") || n.ends_with("assertion") {
        return NameClass::Token;
    }
    if SECRET_PARTS.iter().any(|p| n.contains(p)) || n.ends_with("key") {
        return NameClass::SecretLooking;
    }
    NameClass::Plain
}

/// True when the value under `name` (field, parameter, JSON member, claim) is a credential
/// whatever it looks like: the [`NameClass::is_credential`] classes, except credentials the user
/// is shown on purpose (`user_code`). `token_type` and `code_challenge` are not secrets.
pub fn is_secret_name(name: &str) -> bool {
    classify(name).is_credential() && !SHOWN_CREDENTIALS.contains(&norm(name).as_str())
}

// ---------------------------------------------------------------------------------------------
// XML elements

/// XML elements with a rule of their own (WS-Security, XML-DSig, XML-Enc, SAML, the sync API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    /// `ds:SignatureValue`.
    SignatureValue,
    /// `xenc:CipherValue`.
    CipherValue,
    /// `wsse:Nonce`.
    Nonce,
    /// `wst:BinarySecret`.
    BinarySecret,
    /// `samlp:Artifact`.
    Artifact,
    /// `wsse:BinarySecurityToken`: a credential unless its `ValueType` says X.509
    /// ([`is_certificate_value_type`]).
    BinarySecurityToken,
    /// The sync API's `BearerToken` (a token).
    BearerToken,
    /// Credential data of the provisioning API, and the pass-through authentication agent's
    /// encrypted password (`Base64EncryptedData`).
    CredentialData,
    /// Public by nature: `ds:X509Certificate`, `ds:DigestValue`.
    Public,
    /// No rule of its own: the element's name decides as any other name does.
    ByName,
}

/// The rule of an XML element, by local name.
pub fn element(local: &str) -> Element {
    match norm(local).as_str() {
        "signaturevalue" => Element::SignatureValue,
        "ciphervalue" => Element::CipherValue,
        "nonce" => Element::Nonce,
        "binarysecret" => Element::BinarySecret,
        "artifact" => Element::Artifact,
        // A WS-Trust `BinaryExchange` carries a SPNEGO or TLSNEGO blob (an NTLM response, a
        // Kerberos ticket): never a certificate, so it goes whole.
        "binarysecuritytoken" | "binaryexchange" => Element::BinarySecurityToken,
        "bearertoken" => Element::BearerToken,
        // The pass-through authentication agent's password, encrypted to its certificate
        // (`PasswordValidationContext` on the Service Bus relay).
        "credentialdata"
        | "windowslegacycredentials"
        | "windowssupplementalcredentials"
        | "base64encrypteddata" => Element::CredentialData,
        "x509certificate" | "digestvalue" => Element::Public,
        _ => Element::ByName,
    }
}

/// The HTTP authentication schemes whose token is an SPNEGO, Kerberos or NTLM blob: a client's
/// token proves the user (an NTLM response is cracked offline, a Kerberos ticket replayed), so
/// it is a credential; what a view may keep of it is the message type.
pub const NEGOTIATE_SCHEMES: &[&str] = &["negotiate", "ntlm", "kerberos"];

/// True for a scheme of [`NEGOTIATE_SCHEMES`] (case-insensitive).
pub fn is_negotiate_scheme(scheme: &str) -> bool {
    NEGOTIATE_SCHEMES
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme.trim()))
}

/// True for a `BinarySecurityToken` `ValueType` that names an X.509 certificate (public).
pub fn is_certificate_value_type(value_type: &str) -> bool {
    value_type.to_ascii_lowercase().contains("x509")
}

/// True for a DataContract dictionary entry (`KeyValueOfstringanyType`, `KeyValueOfstringstring`
/// …): its `Key` child is the name of its `Value` child, not a credential, and the `Value` is
/// judged by that name as any other named value is.
pub fn is_dictionary_entry(local: &str) -> bool {
    norm(local).starts_with("keyvalueof")
}

/// True when the text of an XML element named `local` is a credential. Fails closed, since an
/// element's text is shown whole: besides the elements with a rule of their own and
/// [`is_secret_name`], any name with `password` (not a password policy, change or expiry, and
/// not a flag such as `IsPasswordSyncing` or `PasswordWritebackEnabled`), `secret`,
/// `credentials`, `credentialdata` or `token` (not a token type or reference) in it.
pub fn is_secret_element(local: &str) -> bool {
    match element(local) {
        Element::Public => return false,
        Element::ByName => {}
        _ => return true,
    }
    match classify(local) {
        NameClass::Public => return false,
        _ if is_secret_name(local) => return true,
        _ => {}
    }
    let l = local.to_ascii_lowercase();
    let flag = ["Is", "is", "Has", "has"].iter().any(|p| {
        local
            .strip_prefix(p)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
    }) || l.ends_with("enabled");
    let harmless = flag || l.contains("change") || l.contains("policy") || l.contains("expir");
    (l.contains("password") && !harmless)
        || l.contains("secret")
        || l.contains("credentialdata")
        || l.contains("credentials")
        || (l.contains("token") && !l.ends_with("type") && !l.ends_with("reference"))
}

// ---------------------------------------------------------------------------------------------
// Headers

/// What a header name carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderClass {
    /// `Cookie`.
    Cookie,
    /// `Set-Cookie`.
    SetCookie,
    /// `Authorization`, `Proxy-Authorization` and the challenges and answers of HTTP
    /// authentication (`WWW-Authenticate`, `Proxy-Authenticate`, `Authentication-Info`).
    Authorization,
    /// A URL (`Location`, `Referer`, `Content-Location`, `:path`): its query may carry
    /// credentials.
    Url,
    /// `x-ms-RefreshTokenCredential` (a PRT cookie).
    Prt,
    /// `x-ms-DeviceCredential`.
    DeviceCredential,
    /// Any other name with token/secret/passw/session/credential/signature/api-key/csrf/xsrf/auth
    /// in it or ending in `key`: the whole value is a credential.
    Secret,
    /// Anything else.
    Plain,
}

impl HeaderClass {
    /// True for headers whose value carries a credential.
    pub fn is_credential(self) -> bool {
        !matches!(self, HeaderClass::Url | HeaderClass::Plain)
    }
}

/// The class of a header name (case-insensitive).
pub fn header_class(name: &str) -> HeaderClass {
    let l = name.to_ascii_lowercase();
    match l.as_str() {
        "cookie" => HeaderClass::Cookie,
        "set-cookie" => HeaderClass::SetCookie,
        "authorization"
        | "proxy-authorization"
        | "www-authenticate"
        | "proxy-authenticate"
        | "authentication-info" => HeaderClass::Authorization,
        "location" | "referer" | "content-location" | ":path" => HeaderClass::Url,
        "x-ms-refreshtokencredential" => HeaderClass::Prt,
        "x-ms-devicecredential" => HeaderClass::DeviceCredential,
        _ if is_secret_header(&l) => HeaderClass::Secret,
        _ => HeaderClass::Plain,
    }
}

/// Headers whose names say key or token but whose values are public by their protocol:
/// `Sec-WebSocket-Key` is a random nonce the server echoes hashed (RFC 6455 §4.1), proving
/// nothing about anyone.
const PUBLIC_HEADERS: &[&str] = &["sec-websocket-key"];

/// True for header names whose whole value is a credential by their name alone (`X-Api-Key`,
/// `X-CSRF-Token`, `X-Session` …); pseudo-headers, `Access-Control-*` and the protocol nonces of
/// `PUBLIC_HEADERS` (`Sec-WebSocket-Key`) never are.
pub fn is_secret_header(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    if l.starts_with(':')
        || l.starts_with("access-control-")
        || PUBLIC_HEADERS.contains(&l.as_str())
    {
        return false;
    }
    let n = norm(&l);
    SECRET_PARTS.iter().any(|p| n.contains(p)) || n.contains("auth") || n.ends_with("key")
}

/// True when a request header named `name` carries a credential ([`header_class`]).
pub fn is_credential_header(name: &str) -> bool {
    header_class(name).is_credential()
}

// ---------------------------------------------------------------------------------------------
// Values

/// Shortest value under a secret-looking name that counts as a credential.
pub const MIN_CREDENTIAL_LEN: usize = 16;

/// Shortest value the entropy rule looks at.
pub const MIN_HIGH_ENTROPY_LEN: usize = 32;

/// Shannon entropy (bits per character) from which a value counts as random.
pub const MIN_ENTROPY: f64 = 3.5;

/// True when a value under a [`NameClass::SecretLooking`] name is a credential: at least
/// [`MIN_CREDENTIAL_LEN`] bytes, no whitespace inside, and not a public identifier
/// ([`is_public_identifier`]).
pub fn looks_like_credential(value: &str) -> bool {
    value.len() >= MIN_CREDENTIAL_LEN
        && !value.trim().contains(char::is_whitespace)
        && !is_public_identifier(value)
}

/// True for a URN (`urn:oasis:names:tc:SAML:1.0:assertion`, `urn:ietf:params:oauth:token-type:jwt`)
/// or an `http(s)://` URI: names of things, which a credential never is (a URL's query may still
/// carry one; the URL rules look at it).
pub fn is_public_identifier(value: &str) -> bool {
    let t = value.trim_start();
    let head = t.get(..8).unwrap_or(t).to_ascii_lowercase();
    head.starts_with("urn:") || head.starts_with("https://") || head.starts_with("http://")
}

/// True when a value is a credential by its shape wherever it appears: a compact JWT, a PEM
/// private key or an Azure Service Bus SAS token ([`is_sas_token`]).
pub fn is_credential_value(value: &str) -> bool {
    crate::util::looks_like_jwt(value.as_bytes())
        || contains_pem_private_key(value)
        || is_sas_token(value)
}

/// True for an Azure Service Bus / Relay shared access signature token
/// (`SharedAccessSignature sr=…&sig=…&se=…&skn=…`): its `sig` grants access until `se`.
pub fn is_sas_token(value: &str) -> bool {
    let t = value.trim_start();
    t.get(..22)
        .is_some_and(|p| p.eq_ignore_ascii_case("SharedAccessSignature "))
        && t.contains("sig=")
}

/// True when `text` contains a PEM private key (`-----BEGIN … PRIVATE KEY-----`).
pub fn contains_pem_private_key(text: &str) -> bool {
    let mut rest = text;
    while let Some(i) = rest.find("-----BEGIN") {
        let tail = rest.get(i..).unwrap_or("");
        let mut w = tail.len().min(64);
        while !tail.is_char_boundary(w) {
            w -= 1;
        }
        let window = tail.get(..w).unwrap_or("");
        if window.contains("PRIVATE KEY-----") {
            return true;
        }
        rest = tail.get(10..).unwrap_or("");
    }
    false
}

/// True when a JWS with header algorithm `alg` and signature segment `signature` is protected by
/// a real signature: the algorithm is not `none`, and the signature is neither empty nor one
/// that redaction replaced (`REDACTED-SIG-…`). Such a token is a live credential.
pub fn is_live_jws_signature(alg: &str, signature: &str) -> bool {
    !alg.eq_ignore_ascii_case("none")
        && !signature.is_empty()
        && redaction_marker(signature).is_none()
}

/// Shannon entropy of the characters of `s`, in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut n = 0usize;
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// True when a value (trimmed) is long and random enough to be a credential in a credential
/// position: at least [`MIN_HIGH_ENTROPY_LEN`] characters without whitespace and an entropy of
/// at least [`MIN_ENTROPY`].
pub fn is_high_entropy(value: &str) -> bool {
    let v = value.trim();
    v.len() >= MIN_HIGH_ENTROPY_LEN && !v.contains(char::is_whitespace) && entropy(v) >= MIN_ENTROPY
}

// ---------------------------------------------------------------------------------------------
// Display masks

/// The mask shown instead of a secret: `«secret: N chars»` (only the length is told). A
/// redaction marker ([`redaction_marker`]) holds no secret and is shown as it is.
pub fn mask(value: &str) -> String {
    if redaction_marker(value).is_some() {
        return value.to_string();
    }
    format!("«secret: {} chars»", value.chars().count())
}

/// True for a value that already is a mask or a redaction placeholder (`«…»`).
pub fn is_masked(value: &str) -> bool {
    value.starts_with('«')
}

/// Replaces the value of every [`Kind::Secret`] node (at any depth) with [`mask`], and masks
/// secrets inside [`Kind::Markup`] text ([`mask_markup`]). Children stay: the structure of a
/// secret (a JWT's claims) is not the secret. Idempotent.
pub fn mask_tree(node: &mut Node) {
    match node.kind {
        Kind::Secret => {
            if let Some(v) = node.value.as_mut().filter(|v| !is_masked(v)) {
                *v = mask(v);
            }
        }
        Kind::Markup => {
            if let Some(v) = node.value.as_mut() {
                *v = mask_markup(v);
            }
        }
        _ => {}
    }
    for c in &mut node.children {
        mask_tree(c);
    }
}

/// Masks secrets in markup (pretty-printed XML or HTML, which shows whole messages): the text of
/// every element whose local name is a credential ([`is_secret_element`]), then every JWT
/// anywhere (`eyJ…` with two to four more dot-separated base64url segments).
pub fn mask_markup(text: &str) -> String {
    mask_jwts(&mask_credential_elements(text))
}

/// True for the characters of an XML name as the markup mask reads it.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | ':')
}

/// `<prefix:Name …>text</` with a credential name: `text` becomes its mask.
fn mask_credential_elements(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    let mut search = 0;
    while let Some(i) = text.get(search..).and_then(|r| r.find('<')) {
        let open = search + i;
        search = open + 1;
        let after = text.get(open + 1..).unwrap_or("");
        let qname_len = after
            .find(|c: char| !is_name_char(c))
            .unwrap_or(after.len());
        let qname = after.get(..qname_len).unwrap_or("");
        let local = qname.rsplit(':').next().unwrap_or("");
        if local.is_empty() || !is_secret_element(local) {
            continue;
        }
        let tag_rest = after.get(qname_len..).unwrap_or("");
        let Some(gt) = tag_rest.find('>') else {
            continue;
        };
        if tag_rest.get(..gt).is_some_and(|a| a.ends_with('/')) {
            continue;
        }
        let content_start = open + 1 + qname_len + gt + 1;
        let content = text.get(content_start..).unwrap_or("");
        let Some(lt) = content.find('<') else {
            continue;
        };
        if lt == 0 || !content.get(lt..).is_some_and(|c| c.starts_with("</")) {
            continue;
        }
        let inner = content.get(..lt).unwrap_or("");
        out.push_str(text.get(pos..content_start).unwrap_or(""));
        out.push_str(&mask(inner));
        pos = content_start + lt;
        search = pos;
    }
    out.push_str(text.get(pos..).unwrap_or(""));
    out
}

/// True for a base64url character.
fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')
}

/// Every `eyJ` + at least four base64url characters followed by two to four `.segment`s
/// becomes its mask.
fn mask_jwts(text: &str) -> String {
    let b = text.as_bytes();
    let run = |from: usize| {
        let mut e = from;
        while b.get(e).copied().is_some_and(is_b64url) {
            e += 1;
        }
        e
    };
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    let mut search = 0;
    while let Some(i) = text.get(search..).and_then(|r| r.find("eyJ")) {
        let start = search + i;
        search = start + 1;
        let first_end = run(start + 3);
        if first_end - (start + 3) < 4 {
            continue;
        }
        let mut end = first_end;
        let mut dots = 0;
        while dots < 4 && b.get(end) == Some(&b'.') {
            end = run(end + 1);
            dots += 1;
        }
        if dots < 2 {
            continue;
        }
        out.push_str(text.get(pos..start).unwrap_or(""));
        out.push_str(&mask(text.get(start..end).unwrap_or("")));
        pos = end;
        search = end;
    }
    out.push_str(text.get(pos..).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name the decoders' generic views called a secret.
    const GENERIC_SECRETS: &[&str] = &[
        "password",
        "Password",
        "passwd",
        "PWD",
        "secret",
        "client_secret",
        "app_secret",
        "refresh_token",
        "access_token",
        "id_token",
        "token",
        "code",
        "device_code",
        "assertion",
        "client_assertion",
        "session_key",
        "pin",
        "OTP",
        "passcode",
        "code_verifier",
        "session_key_jwe",
        "flowToken",
        "subject_token",
        "tgt_ad",
        "new_password",
        "x_api_key",
        "apikey",
    ];

    /// Every name the redaction policy removes or rewrites whatever the value.
    const REDACTION_CREDENTIALS: &[&str] = &[
        "newPassword",
        "confirm-password",
        "prt",
        "primary_refresh_token",
        "x-ms-RefreshTokenCredential",
        "x-ms-DeviceCredential",
        "SAMLart",
        "Signature",
        "sig",
        "api_key",
        "private_key",
        "client_key",
        "credential_data",
        "csrf_token",
        "XSRF-TOKEN",
        "request",
        "BearerToken",
        "id_token_hint",
        "logout_token",
        "ac_token",
    ];

    #[test]
    fn names_every_old_list_called_secret_are_secret() {
        for n in GENERIC_SECRETS.iter().chain(REDACTION_CREDENTIALS) {
            assert!(is_secret_name(n), "{n}");
            assert!(is_secret_element(n), "{n}");
        }
    }

    #[test]
    fn harmless_names_are_not_secret() {
        for n in [
            "token_type",
            "user_code",
            "code_challenge",
            "username",
            "expires_in",
            "scope",
            "kid",
            "state",
            "nonce",
            "client_id",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
    }

    /// Names that say token, key, secret or session but whose values are public: kinds,
    /// methods, capabilities, state, cursors, links and public keys. Neither redaction nor the
    /// display masks touch them.
    #[test]
    fn public_names_are_neither_credentials_nor_secret_looking() {
        for n in [
            "TokenType",
            "token_type",
            "issued_token_type",
            "requested_token_type",
            "subject_token_type",
            "KeyType",
            "ValueType",
            "EncodingType",
            "SignatureMethod",
            "token_endpoint_auth_methods_supported",
            "session_state",
            "deltaToken",
            "$skiptoken",
            "@odata.nextLink",
            "error_uri",
            "TransportKey",
            "devicePublicKey",
        ] {
            assert_eq!(classify(n), NameClass::Public, "{n}");
            assert!(!is_secret_name(n), "{n}");
            assert!(!is_secret_element(n), "{n}");
        }
        // A URN or URL under a secret-looking name is a name of something, not a credential.
        assert!(!looks_like_credential(
            "urn:oasis:names:tc:SAML:1.0:assertion"
        ));
        assert!(!looks_like_credential(
            "https://sts.contoso.test/adfs/services/trust"
        ));
        assert!(looks_like_credential("0123456789abcdef0123"));
        assert!(is_dictionary_entry("KeyValueOfstringanyType"));
        assert!(!is_dictionary_entry("Key"));
        assert!(!is_credential_header("Sec-WebSocket-Key"));
    }

    #[test]
    fn markers_are_shown_as_they_are_not_masked_again() {
        let m = placeholder("refresh_token", 69, "c8b5df90");
        assert_eq!(mask(&m), m);
        assert_eq!(mask("REDACTED-SIG-0123456789a"), "REDACTED-SIG-0123456789a");
        assert_eq!(mask("0.AXo"), "«secret: 5 chars»");
    }

    #[test]
    fn the_user_code_is_shown_but_is_a_credential_for_sharing() {
        assert_eq!(classify("user_code"), NameClass::Credential("user_code"));
        assert!(!is_secret_name("user_code"));
    }

    #[test]
    fn classes_of_names() {
        assert_eq!(
            classify("Refresh-Token"),
            NameClass::Credential("refresh_token")
        );
        assert_eq!(
            classify("refreshToken"),
            NameClass::Credential("refresh_token")
        );
        assert_eq!(classify("tgt_ad"), NameClass::Credential("tgt"));
        assert_eq!(classify("id_token"), NameClass::Token);
        assert_eq!(classify("subject_token"), NameClass::Token);
        assert_eq!(classify("SAMLResponse"), NameClass::Saml);
        assert_eq!(classify("upn"), NameClass::Pii);
        assert_eq!(classify("token_type"), NameClass::Public);
        assert_eq!(classify("x-session-id"), NameClass::SecretLooking);
        assert_eq!(classify("state"), NameClass::Plain);
        assert_eq!(classify("pin"), NameClass::Password);
    }

    #[test]
    fn xml_elements() {
        for n in [
            "BearerToken",
            "Password",
            "SignatureValue",
            "CipherValue",
            "Nonce",
            "BinarySecret",
            "BinarySecurityToken",
            "CredentialData",
            "WindowsLegacyCredentials",
            "Artifact",
            "ClientSecret",
            "IssuerPassword",
        ] {
            assert!(is_secret_element(n), "{n}");
        }
        for n in [
            "TokenType",
            "SecurityTokenReference",
            "DisplayName",
            "PasswordPolicy",
            "IsPasswordSyncing",
            "PasswordWritebackEnabled",
            "X509Certificate",
            "DigestValue",
        ] {
            assert!(!is_secret_element(n), "{n}");
        }
        assert!(is_certificate_value_type("http://…#X509v3"));
    }

    #[test]
    fn headers() {
        assert_eq!(header_class("Cookie"), HeaderClass::Cookie);
        assert_eq!(header_class("Authorization"), HeaderClass::Authorization);
        assert_eq!(
            header_class("x-ms-RefreshTokenCredential"),
            HeaderClass::Prt
        );
        assert_eq!(header_class("Location"), HeaderClass::Url);
        for n in ["X-Api-Key", "X-CSRF-Token", "X-Session", "X-Client-Secret"] {
            assert_eq!(header_class(n), HeaderClass::Secret, "{n}");
            assert!(is_credential_header(n), "{n}");
        }
        for n in [
            "Content-Type",
            "Access-Control-Allow-Headers",
            ":authority",
            "Location",
        ] {
            assert!(!is_credential_header(n), "{n}");
        }
    }

    #[test]
    fn values() {
        assert!(is_credential_value("eyJhbGciOiJub25lIn0.eyJhIjoxfQ."));
        assert!(is_credential_value(
            "x\n-----BEGIN RSA PRIVATE KEY-----\nMIIB"
        ));
        assert!(!is_credential_value("-----BEGIN CERTIFICATE-----\nMIIB"));
        assert!(!is_credential_value("hello"));
        assert!(is_live_jws_signature("RS256", "c2ln"));
        assert!(!is_live_jws_signature("none", "c2ln"));
        assert!(!is_live_jws_signature("RS256", ""));
        assert!(!is_live_jws_signature("RS256", "REDACTED-SIG-0123456789a"));
        assert!(is_live_jws_signature("RS256", "REDACTED-SIG-abc"));
        assert!(is_high_entropy("Zq8xN3pL0vB7wK2mR5tY9uC4hJ6gF1dS"));
        assert!(!is_high_entropy("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        assert!(!is_high_entropy("short"));
        assert!(looks_like_credential("0123456789abcdef"));
        assert!(!looks_like_credential("Bearer"));
        assert!(!looks_like_credential("a value with spaces in it"));
    }

    #[test]
    fn masks() {
        assert_eq!(mask("hunter2"), "«secret: 7 chars»");
        let mut n = Node::section("s").with_child(Node::secret("pw", "hunter2"));
        mask_tree(&mut n);
        mask_tree(&mut n);
        assert_eq!(n.children[0].value.as_deref(), Some("«secret: 7 chars»"));
    }

    #[test]
    fn markup_masks_credential_elements_and_jwts() {
        let xml = "<a><wsse:Password Type=\"t\">hunter2</wsse:Password><UserName>alice</UserName>\
                   <NewPassword>x</NewPassword><Self/>tail<TokenType>urn:x</TokenType>\
                   <b>eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln and eyJabc.d.e</b></a>";
        let v = mask_markup(xml);
        assert!(
            v.contains("<wsse:Password Type=\"t\">«secret: 7 chars»</wsse:Password>"),
            "{v}"
        );
        assert!(
            v.contains("<NewPassword>«secret: 1 chars»</NewPassword>"),
            "{v}"
        );
        assert!(v.contains("<UserName>alice</UserName>"), "{v}");
        assert!(v.contains("<TokenType>urn:x</TokenType>"), "{v}");
        assert!(
            v.contains("<b>«secret: 41 chars» and eyJabc.d.e</b>"),
            "{v}"
        );
    }

    #[test]
    fn markup_masking_never_panics_on_odd_input() {
        for s in [
            "<",
            "<Password",
            "<Password>",
            "<Password>x",
            "eyJ",
            "eyJabcd.",
            "é<Nonce>ü</",
        ] {
            let m = mask_markup(s);
            assert!(!m.is_empty(), "{s}");
        }
        assert_eq!(mask_markup("é<Nonce>ü</"), "é<Nonce>«secret: 1 chars»</");
    }
}
