//! Which field, parameter and element names carry credentials: the rule behind every
//! [`Kind::Secret`](crate::view::Kind::Secret) mark the generic views set.

/// Names whose values are credentials, compared case-insensitively (see [`is_secret_name`]).
const SECRET_NAMES: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "refresh_token",
    "access_token",
    "id_token",
    "token",
    "code",
    "device_code",
    "assertion",
    "session_key",
    "pin",
    "otp",
    "passcode",
    "code_verifier",
    "session_key_jwe",
];

/// True when a field, parameter or element named `name` carries a credential: one of
/// `password, passwd, pwd, secret, client_secret, refresh_token, access_token, id_token, token,
/// code, device_code, assertion, session_key, pin, otp` (case-insensitive), plus the obvious
/// relatives: names ending in `password`, `passwd`, `token` (`flowToken`, `subject_token`),
/// `_secret`, `assertion` (`client_assertion`) or `api_key`/`apikey`, `tgt_*`, `passcode`,
/// `code_verifier` and `session_key_jwe`. `token_type`, `user_code` and `code_challenge` are not
/// secrets.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    SECRET_NAMES.contains(&n.as_str())
        || n.ends_with("password")
        || n.ends_with("passwd")
        || n.ends_with("token")
        || n.ends_with("_secret")
        || n.ends_with("assertion")
        || n.ends_with("api_key")
        || n.ends_with("apikey")
        || n.starts_with("tgt_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_are_matched_case_insensitively() {
        for n in [
            "password",
            "Password",
            "PWD",
            "client_secret",
            "refresh_token",
            "id_token",
            "code",
            "device_code",
            "client_assertion",
            "flowToken",
            "subject_token",
            "tgt_ad",
            "session_key_jwe",
            "OTP",
            "pin",
            "new_password",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "token_type",
            "user_code",
            "code_challenge",
            "username",
            "expires_in",
            "scope",
            "kid",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
    }
}
