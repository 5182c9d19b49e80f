//! The Kerberos number tables a view explains: encryption types, error codes (RFC 4120 §7.5.9,
//! RFC 6113, RFC 4556 and the Windows additions), name types, pre-authentication data types and
//! the option bits of AP and KDC requests.

/// How safe an encryption type is today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strength {
    /// AES, Camellia.
    Good,
    /// RC4-HMAC: unsalted, the NT hash is the key; Kerberoasting cracks it fast; Microsoft is
    /// retiring it.
    Weak,
    /// DES: broken.
    Broken,
}

/// The name and strength of an encryption type (RFC 3961, 3962, 4757, 6803, 8009).
pub(super) fn etype(n: i64) -> (&'static str, Strength) {
    match n {
        1 => ("des-cbc-crc", Strength::Broken),
        2 => ("des-cbc-md4", Strength::Broken),
        3 => ("des-cbc-md5", Strength::Broken),
        5 => ("des3-cbc-md5", Strength::Weak),
        7 => ("des3-cbc-sha1", Strength::Weak),
        16 => ("des3-cbc-sha1-kd", Strength::Weak),
        17 => ("aes128-cts-hmac-sha1-96", Strength::Good),
        18 => ("aes256-cts-hmac-sha1-96", Strength::Good),
        19 => ("aes128-cts-hmac-sha256-128", Strength::Good),
        20 => ("aes256-cts-hmac-sha384-192", Strength::Good),
        23 => ("rc4-hmac", Strength::Weak),
        24 => ("rc4-hmac-exp", Strength::Broken),
        25 => ("camellia128-cts-cmac", Strength::Good),
        26 => ("camellia256-cts-cmac", Strength::Good),
        -128 => ("rc4-hmac-old (Windows)", Strength::Weak),
        -135 => ("rc4-hmac-old-exp (Windows)", Strength::Broken),
        _ => ("unknown encryption type", Strength::Good),
    }
}

/// The name and meaning of a KRB-ERROR code.
pub(super) fn error(code: i64) -> (&'static str, &'static str) {
    match code {
        0 => ("KDC_ERR_NONE", "no error"),
        1 => (
            "KDC_ERR_NAME_EXP",
            "the client's entry in the KDC database has expired",
        ),
        2 => (
            "KDC_ERR_SERVICE_EXP",
            "the server's entry in the KDC database has expired",
        ),
        3 => (
            "KDC_ERR_BAD_PVNO",
            "the requested Kerberos version is not supported",
        ),
        4 => (
            "KDC_ERR_C_OLD_MAST_KVNO",
            "the client's key is encrypted in an old master key",
        ),
        5 => (
            "KDC_ERR_S_OLD_MAST_KVNO",
            "the server's key is encrypted in an old master key",
        ),
        6 => (
            "KDC_ERR_C_PRINCIPAL_UNKNOWN",
            "the client is not in the KDC database (unknown user or computer name)",
        ),
        7 => (
            "KDC_ERR_S_PRINCIPAL_UNKNOWN",
            "the server (SPN) is not in the KDC database: no account has this service principal \
             name (missing or duplicate SPN, or a wrong host name)",
        ),
        8 => (
            "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
            "several principals have this name (duplicate SPN)",
        ),
        9 => ("KDC_ERR_NULL_KEY", "the client or server has a null key"),
        10 => (
            "KDC_ERR_CANNOT_POSTDATE",
            "the ticket is not eligible for postdating",
        ),
        11 => (
            "KDC_ERR_NEVER_VALID",
            "the requested start time is later than the end time",
        ),
        12 => (
            "KDC_ERR_POLICY",
            "the KDC policy rejects the request (logon hours, workstation restrictions …)",
        ),
        13 => (
            "KDC_ERR_BADOPTION",
            "the KDC cannot accommodate a requested option (e.g. delegation not allowed)",
        ),
        14 => (
            "KDC_ERR_ETYPE_NOSUPP",
            "the KDC has no key of an encryption type the client offered (e.g. an account without \
             AES keys asked for AES only, or RC4 disabled)",
        ),
        15 => (
            "KDC_ERR_SUMTYPE_NOSUPP",
            "the checksum type is not supported",
        ),
        16 => (
            "KDC_ERR_PADATA_TYPE_NOSUPP",
            "the pre-authentication type is not supported",
        ),
        17 => (
            "KDC_ERR_TRTYPE_NOSUPP",
            "the transited type is not supported",
        ),
        18 => (
            "KDC_ERR_CLIENT_REVOKED",
            "the client's credentials were revoked (account disabled, expired or locked out)",
        ),
        19 => (
            "KDC_ERR_SERVICE_REVOKED",
            "the server's credentials were revoked",
        ),
        20 => ("KDC_ERR_TGT_REVOKED", "the TGT was revoked"),
        21 => ("KDC_ERR_CLIENT_NOTYET", "the client is not yet valid"),
        22 => ("KDC_ERR_SERVICE_NOTYET", "the server is not yet valid"),
        23 => ("KDC_ERR_KEY_EXPIRED", "the password has expired: change it"),
        24 => (
            "KDC_ERR_PREAUTH_FAILED",
            "pre-authentication failed: wrong password",
        ),
        25 => (
            "KDC_ERR_PREAUTH_REQUIRED",
            "pre-authentication is required: the normal first answer to an AS-REQ without \
             pre-authentication; the client retries with an encrypted timestamp",
        ),
        26 => (
            "KDC_ERR_SERVER_NOMATCH",
            "the requested server and the ticket do not match",
        ),
        27 => (
            "KDC_ERR_MUST_USE_USER2USER",
            "the server principal is valid for user-to-user only",
        ),
        28 => (
            "KDC_ERR_PATH_NOT_ACCEPTED",
            "the KDC policy rejects the transited path",
        ),
        29 => ("KDC_ERR_SVC_UNAVAILABLE", "a service is unavailable"),
        31 => (
            "KRB_AP_ERR_BAD_INTEGRITY",
            "the integrity check on decrypted data failed: the server's key does not match the \
             ticket's (a stale keytab, a password change) or the message was altered",
        ),
        32 => (
            "KRB_AP_ERR_TKT_EXPIRED",
            "the ticket has expired: get a new one",
        ),
        33 => ("KRB_AP_ERR_TKT_NYV", "the ticket is not yet valid"),
        34 => ("KRB_AP_ERR_REPEAT", "the request is a replay"),
        35 => ("KRB_AP_ERR_NOT_US", "the ticket is not for this server"),
        36 => (
            "KRB_AP_ERR_BADMATCH",
            "the ticket and authenticator do not match",
        ),
        37 => (
            "KRB_AP_ERR_SKEW",
            "the clocks of client and server differ by more than the allowed skew (5 minutes by default)",
        ),
        38 => (
            "KRB_AP_ERR_BADADDR",
            "the network address in the ticket does not match",
        ),
        39 => (
            "KRB_AP_ERR_BADVERSION",
            "the protocol version numbers do not match",
        ),
        40 => ("KRB_AP_ERR_MSG_TYPE", "the message type is not supported"),
        41 => (
            "KRB_AP_ERR_MODIFIED",
            "the message stream was modified, or the server could not decrypt the ticket (wrong key / SPN on the wrong account)",
        ),
        42 => ("KRB_AP_ERR_BADORDER", "the message is out of order"),
        44 => (
            "KRB_AP_ERR_BADKEYVER",
            "the server has no key of the ticket's key version (kvno): its keytab is stale",
        ),
        45 => ("KRB_AP_ERR_NOKEY", "the server has no key for this ticket"),
        46 => ("KRB_AP_ERR_MUT_FAIL", "mutual authentication failed"),
        47 => ("KRB_AP_ERR_BADDIRECTION", "the message direction is wrong"),
        48 => (
            "KRB_AP_ERR_METHOD",
            "an alternative authentication method is required",
        ),
        49 => (
            "KRB_AP_ERR_BADSEQ",
            "the sequence number in the message is wrong",
        ),
        50 => (
            "KRB_AP_ERR_INAPP_CKSUM",
            "the checksum type is inappropriate for the message",
        ),
        51 => (
            "KRB_AP_PATH_NOT_ACCEPTED",
            "the desired path is unreachable",
        ),
        52 => (
            "KRB_ERR_RESPONSE_TOO_BIG",
            "the answer is too large for UDP: retry over TCP",
        ),
        60 => ("KRB_ERR_GENERIC", "a generic error (see e-text)"),
        61 => (
            "KRB_ERR_FIELD_TOOLONG",
            "a field is too long for this implementation",
        ),
        62 => (
            "KDC_ERR_CLIENT_NOT_TRUSTED",
            "PKINIT: the client's certificate is not trusted",
        ),
        63 => ("KDC_ERR_KDC_NOT_TRUSTED", "PKINIT: the KDC is not trusted"),
        64 => ("KDC_ERR_INVALID_SIG", "PKINIT: the signature is invalid"),
        65 => (
            "KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED",
            "PKINIT: the key parameters are not accepted",
        ),
        66 => (
            "KDC_ERR_CERTIFICATE_MISMATCH",
            "PKINIT: the certificate does not match",
        ),
        67 => ("KRB_AP_ERR_NO_TGT", "no TGT is available for user-to-user"),
        68 => (
            "KDC_ERR_WRONG_REALM",
            "the wrong realm: the client should ask another KDC (referral)",
        ),
        69 => (
            "KRB_AP_ERR_USER_TO_USER_REQUIRED",
            "the ticket must be for user-to-user",
        ),
        70 => (
            "KDC_ERR_CANT_VERIFY_CERTIFICATE",
            "PKINIT: the certificate cannot be verified",
        ),
        71 => (
            "KDC_ERR_INVALID_CERTIFICATE",
            "PKINIT: the certificate is invalid",
        ),
        72 => (
            "KDC_ERR_REVOKED_CERTIFICATE",
            "PKINIT: the certificate is revoked",
        ),
        73 => (
            "KDC_ERR_REVOCATION_STATUS_UNKNOWN",
            "PKINIT: the revocation status is unknown",
        ),
        74 => (
            "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE",
            "PKINIT: the revocation status is unavailable",
        ),
        75 => (
            "KDC_ERR_CLIENT_NAME_MISMATCH",
            "PKINIT: the client name does not match the certificate",
        ),
        76 => (
            "KDC_ERR_KDC_NAME_MISMATCH",
            "PKINIT: the KDC name does not match",
        ),
        90 => (
            "KDC_ERR_PREAUTH_EXPIRED",
            "the pre-authentication data has expired",
        ),
        91 => (
            "KDC_ERR_MORE_PREAUTH_DATA_REQUIRED",
            "more pre-authentication data is needed (FAST)",
        ),
        93 => (
            "KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS",
            "a critical FAST option is unknown",
        ),
        _ => ("unknown error code", "not in idscope's table"),
    }
}

/// The name of a principal name type.
pub(super) fn name_type(n: i64) -> &'static str {
    match n {
        0 => "NT-UNKNOWN",
        1 => "NT-PRINCIPAL (a user)",
        2 => "NT-SRV-INST (a service and its instance, e.g. krbtgt/REALM)",
        3 => "NT-SRV-HST (a service on a host)",
        4 => "NT-SRV-XHST",
        5 => "NT-UID",
        6 => "NT-X500-PRINCIPAL",
        7 => "NT-SMTP-NAME",
        10 => "NT-ENTERPRISE (a UPN)",
        -128 => "NT-MS-PRINCIPAL",
        -129 => "NT-MS-PRINCIPAL-AND-ID",
        -130 => "NT-ENT-PRINCIPAL-AND-ID",
        _ => "unknown name type",
    }
}

/// The name of a pre-authentication data type.
pub(super) fn padata_type(n: i64) -> &'static str {
    match n {
        1 => "PA-TGS-REQ (the AP-REQ carrying the TGT)",
        2 => "PA-ENC-TIMESTAMP (the time encrypted with the user's key)",
        3 => "PA-PW-SALT",
        11 => "PA-ETYPE-INFO",
        16 => "PA-PK-AS-REQ (PKINIT)",
        17 => "PA-PK-AS-REP (PKINIT)",
        19 => "PA-ETYPE-INFO2 (encryption types and salts of the user's keys)",
        128 => "PA-PAC-REQUEST",
        129 => "PA-FOR-USER (S4U2Self)",
        133 => "PA-FX-COOKIE",
        136 => "PA-FX-FAST",
        137 => "PA-FX-ERROR",
        138 => "PA-ENCRYPTED-CHALLENGE",
        147 => "PA-OTP-CHALLENGE",
        149 => "PA-REQ-ENC-PA-REP",
        150 => "PA-AS-FRESHNESS",
        151 => "PA-SPAKE",
        165 => "PA-SUPPORTED-ENCTYPES",
        167 => "PA-PAC-OPTIONS",
        _ => "unknown pre-authentication type",
    }
}

/// The AP options bits (RFC 4120 §5.5.1), by bit number from the left.
pub(super) const AP_OPTIONS: &[(u32, &str)] = &[(1, "use-session-key"), (2, "mutual-required")];

/// The KDC options bits (RFC 4120 §5.4.1 and extensions), by bit number from the left.
pub(super) const KDC_OPTIONS: &[(u32, &str)] = &[
    (1, "forwardable"),
    (2, "forwarded"),
    (3, "proxiable"),
    (4, "proxy"),
    (5, "allow-postdate"),
    (6, "postdated"),
    (8, "renewable"),
    (14, "cname-in-addl-tkt (constrained delegation)"),
    (15, "canonicalize"),
    (16, "request-anonymous"),
    (26, "disable-transited-check"),
    (27, "renewable-ok"),
    (28, "enc-tkt-in-skey"),
    (30, "renew"),
    (31, "validate"),
];

/// The names of the set bits of a BIT STRING read by `der::Tlv::bits`.
pub(super) fn bit_names(bits: u32, table: &[(u32, &'static str)]) -> Vec<&'static str> {
    table
        .iter()
        .filter(|(n, _)| bits & (0x8000_0000 >> n) != 0)
        .map(|(_, name)| *name)
        .collect()
}
