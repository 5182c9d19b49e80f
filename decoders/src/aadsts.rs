//! Entra ID's `AADSTS` error codes: the one table of what each means, and finding a code in a
//! text. The token endpoint's errors (`oauth`), the sign-in pages (`signin`) and the Seamless SSO
//! faults (`saml::desktopsso`) all explain codes with it, so it sits below them all.

/// Short meaning of an Entra ID `AADSTS` error code (protocols.md §2.6, plus the device-flow,
/// client-authentication, sign-in page and interrupt codes seen in the same exchanges; Microsoft's
/// "Entra authentication and authorization error codes" reference).
pub fn aadsts_meaning(code: u64) -> Option<&'static str> {
    Some(match code {
        50126 => "bad username or password",
        50034 => "user account does not exist in the directory",
        50053 => "account locked (too many sign-in attempts or a blocked IP)",
        50057 => "user account disabled",
        50055 => "password expired",
        50144 => "the user's on-premises Active Directory password expired",
        50076 => "MFA required",
        50074 => "strong authentication required: the user did not pass the MFA challenge",
        50079 => "MFA registration required",
        50072 => "the user must register for MFA (interrupt)",
        50097 => "device authentication required",
        50105 => "the user is not assigned to a role for the application",
        50107 => "the requested federation realm object does not exist",
        50158 => "an external security challenge (federated or third-party MFA) was not satisfied",
        50008 => "the SAML token is missing or invalid",
        50013 => {
            "the assertion is invalid (issuer, lifetime, format, or not a primary refresh token)"
        }
        50011 => "the reply address does not match the reply addresses configured for the app",
        50058 => {
            "the user is not signed in (no session: expected on a first page or with prompt=none)"
        }
        50089 => "the flow token expired: sign in again",
        50125 => "sign-in interrupted by a password reset or registration",
        50132 => "the session is invalid after a password change or expiry: sign in again",
        50140 => "\"Keep me signed in\" interrupt",
        50196 => "client loop detected: too many identical requests in a short time",
        50199 => "the user must confirm the app they are signing in to (CMSI interrupt)",
        53000 => "device not compliant (Conditional Access)",
        53001 => "device not domain joined (Conditional Access)",
        53003 => "blocked by Conditional Access",
        65001 => "consent required: the user or an admin has not consented to the app",
        65004 => "the user declined consent to the app",
        90094 => "admin consent required",
        90072 => {
            "the account does not exist in this tenant (an external account must be added as a guest first)"
        }
        165000 => "invalid request canary: the anti-forgery token is missing or expired",
        700016 => "application not found in the tenant",
        90002 => "tenant not found",
        70008 => "authorization code or refresh token expired",
        700082 => "refresh token expired due to inactivity",
        9002313 => "malformed or invalid request",
        90011 => "ambiguous request",
        70016 => "device flow: authorization pending",
        70019 => "device flow: the device code expired",
        7000215 => "invalid client secret",
        7000218 => "the request needs client_assertion or client_secret",
        7000222 => "the client secret has expired",
        700021 => "the client assertion's application (iss, sub) is not the client_id",
        700023 => "the client assertion's aud is not this tenant's token endpoint",
        700024 => {
            "the client assertion is not within its valid time range (expired or not yet valid)"
        }
        700025 => "a public client sent client_assertion or client_secret",
        700027 => {
            "the client assertion's signature is invalid, or its certificate is not registered on \
             the application (or has expired)"
        }
        50027 => "the JWT is invalid or malformed",
        50048 => "the client assertion's sub is not its iss",
        1002012 => "client credentials need one scope of the form <resource>/.default",
        900561 => "the endpoint only accepts POST requests",
        _ => return None,
    })
}

/// The first `AADSTS<digits>` code in a text (error descriptions, HTML pages).
pub fn aadsts_code(text: &str) -> Option<u64> {
    let i = text.find("AADSTS")?;
    let rest = text.get(i + 6..)?;
    let digits: String = rest
        .chars()
        .take_while(char::is_ascii_digit)
        .take(12)
        .collect();
    digits.parse().ok()
}
