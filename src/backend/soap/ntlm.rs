//! NTLM for SOAP sources (Dynamics NAV on-premises' default), with the `ntlmclient` crate for
//! the messages. NTLM authenticates a TCP connection, not a request: the Negotiate and
//! Authenticate messages must travel on the same connection, and later requests on it count as
//! the account's without credentials. So an NTLM source sends through its own pool of
//! single-connection HTTP clients: each is used by one call at a time, authenticated once, and
//! belongs to the source (one account), so it is never lent to another source or principal.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::client::{self, Answer};
use super::types::{Auth, SoapError, SoapSettings};

/// Idle authenticated connections kept per source.
const MAX_IDLE: usize = 8;

/// An idle connection older than this is dropped rather than reused: servers close idle
/// connections (IIS after 2 minutes), and a request on a closing one costs a new handshake.
const MAX_IDLE_AGE: Duration = Duration::from_secs(90);

/// The workstation name sent in the messages.
const WORKSTATION: &str = "LEGACY-MCP";

/// An NTLM source's connections. Empty until the first call.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<Vec<Conn>>,
}

/// One connection: a reqwest client that keeps at most one connection alive.
struct Conn {
    client: reqwest::Client,
    authenticated: bool,
    idle_since: Instant,
}

/// `DOMAIN\user` -> (`DOMAIN`, `user`); `user@domain` and a bare `user` keep an empty domain
/// (the server takes the UPN as it is).
pub fn split_account(account: &str) -> (String, String) {
    match account.split_once('\\') {
        Some((domain, user)) => (domain.to_string(), user.to_string()),
        None => (String::new(), account.to_string()),
    }
}

impl Pool {
    /// POST the envelope as the source's account, authenticating the connection first when it
    /// is new or the server has forgotten it.
    pub async fn send(
        &self,
        s: &SoapSettings,
        action: &str,
        envelope: String,
    ) -> Result<Answer, SoapError> {
        let Auth::Ntlm {
            domain,
            user,
            password,
        } = &s.auth
        else {
            return Err(SoapError::Call(format!(
                "source `{}` is not an NTLM source",
                s.name
            )));
        };
        let mut conn = self.checkout(s)?;
        if conn.authenticated {
            // A request the server did not take (401) was not processed: sending it again
            // after the handshake is not a retry.
            let a = client::exchange(&conn.client, s, action, envelope.clone(), None).await?;
            if !(a.status == 401 && a.ntlm.is_some()) {
                self.checkin(conn);
                return Ok(a);
            }
        }
        // Negotiate on an empty body (as curl does): the answer is only the challenge.
        let hello =
            client::exchange(&conn.client, s, action, String::new(), Some(negotiate()?)).await?;
        let challenge = match (hello.status, hello.ntlm.as_deref()) {
            (401, Some(token)) if !token.is_empty() => token.to_string(),
            (status, _) => return Err(not_offered(s, status)),
        };
        let proof = authenticate(&challenge, domain, user, password).map_err(|e| {
            SoapError::Call(format!(
                "source `{}` sent an NTLM challenge that cannot be read ({e})",
                s.name
            ))
        })?;
        let a = client::exchange(&conn.client, s, action, envelope, Some(proof)).await?;
        if a.status == 401 {
            return Err(SoapError::Call(format!(
                "source `{}` refused the NTLM sign-in as {} (HTTP 401): check the user name, domain and password",
                s.name,
                account(domain, user)
            )));
        }
        conn.authenticated = true;
        self.checkin(conn);
        Ok(a)
    }

    fn checkout(&self, s: &SoapSettings) -> Result<Conn, SoapError> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(c) = idle.pop() {
            if c.idle_since.elapsed() < MAX_IDLE_AGE {
                return Ok(c);
            }
        }
        drop(idle);
        let client = client::build(s, true).map_err(SoapError::Call)?;
        Ok(Conn {
            client,
            authenticated: false,
            idle_since: Instant::now(),
        })
    }

    fn checkin(&self, mut conn: Conn) {
        conn.idle_since = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }
}

fn account(domain: &str, user: &str) -> String {
    if domain.is_empty() {
        user.to_string()
    } else {
        format!("{domain}\\{user}")
    }
}

fn not_offered(s: &SoapSettings, status: u16) -> SoapError {
    SoapError::Call(format!(
        "source `{}` did not answer the NTLM negotiation with a challenge (HTTP {status}); the service may want another `auth:` (basic, or Kerberos, which this build does not speak)",
        s.name
    ))
}

fn negotiate() -> Result<String, SoapError> {
    let flags = ntlmclient::Flags::NEGOTIATE_UNICODE
        | ntlmclient::Flags::REQUEST_TARGET
        | ntlmclient::Flags::NEGOTIATE_NTLM
        | ntlmclient::Flags::NEGOTIATE_WORKSTATION_SUPPLIED;
    let msg = ntlmclient::Message::Negotiate(ntlmclient::NegotiateMessage {
        flags,
        supplied_domain: String::new(),
        supplied_workstation: WORKSTATION.to_string(),
        os_version: Default::default(),
    });
    let bytes = msg
        .to_bytes()
        .map_err(|e| SoapError::Call(format!("cannot write the NTLM negotiation ({e})")))?;
    Ok(format!("NTLM {}", B64.encode(bytes)))
}

/// The Authenticate message (NTLMv2) answering the server's challenge.
fn authenticate(
    challenge_b64: &str,
    domain: &str,
    user: &str,
    password: &str,
) -> Result<String, String> {
    let bytes = B64
        .decode(challenge_b64)
        .map_err(|_| "not base64".to_string())?;
    let ntlmclient::Message::Challenge(challenge) =
        ntlmclient::Message::try_from(bytes.as_slice()).map_err(|e| e.to_string())?
    else {
        return Err("not a challenge message".into());
    };
    let target_info: Vec<u8> = challenge
        .target_information
        .iter()
        .flat_map(|entry| entry.to_bytes())
        .collect();
    let creds = ntlmclient::Credentials {
        username: user.to_string(),
        password: password.to_string(),
        domain: domain.to_string(),
    };
    let response = ntlmclient::respond_challenge_ntlm_v2(
        challenge.challenge,
        &target_info,
        ntlmclient::get_ntlm_time(),
        &creds,
    );
    let flags = ntlmclient::Flags::NEGOTIATE_UNICODE | ntlmclient::Flags::NEGOTIATE_NTLM;
    let msg = response.to_message(&creds, WORKSTATION, flags);
    let bytes = msg.to_bytes().map_err(|e| e.to_string())?;
    Ok(format!("NTLM {}", B64.encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::split_account;

    #[test]
    fn accounts_split_at_the_backslash_only() {
        assert_eq!(
            split_account("CRONUS\\mcp"),
            ("CRONUS".to_string(), "mcp".to_string())
        );
        assert_eq!(
            split_account("mcp@cronus.example"),
            (String::new(), "mcp@cronus.example".to_string())
        );
    }
}
