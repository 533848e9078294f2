//! The HTTP exchange with a SOAP service: one reqwest client per source (its own connection
//! pool, so connections never cross credentials), the headers each SOAP version wants, and
//! every way an answer can fail to be SOAP turned into a short, safe message.

use super::types::{Auth, SoapError, SoapSettings};
use crate::backend::mssql::Trust;
use crate::backend::soap::keys::SoapVersion;

/// The client for one source: timeouts, trust, proxy. Failures (an unreadable certificate)
/// surface on the first call, so `check` stays free of I/O.
///
/// `one_connection`: an NTLM connection (`ntlm.rs`): HTTP/1.1 (NTLM cannot authenticate an
/// HTTP/2 stream), and at most one idle connection, so requests made one after another reuse
/// the connection the handshake authenticated.
pub fn build(s: &SoapSettings, one_connection: bool) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(s.connect_timeout)
        .timeout(s.request_timeout)
        .user_agent(concat!("legacy-mcp/", env!("CARGO_PKG_VERSION")))
        // Redirects would re-send the body (and credentials) somewhere the mapping did not name.
        .redirect(reqwest::redirect::Policy::none());
    if one_connection {
        b = b.http1_only().pool_max_idle_per_host(1);
    }
    b = match &s.trust {
        Trust::System => b,
        Trust::Any => b.tls_danger_accept_invalid_certs(true),
        Trust::File(path) => {
            let bytes = std::fs::read(path).map_err(|e| {
                format!(
                    "source `{}`: cannot read ca_certificate {}: {e}",
                    s.name,
                    path.display()
                )
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&bytes)
                .ok()
                .filter(|c| !c.is_empty())
                .map(Ok)
                .unwrap_or_else(|| reqwest::Certificate::from_der(&bytes).map(|c| vec![c]))
                .map_err(|_| {
                    format!(
                        "source `{}`: {} is neither a PEM nor a DER certificate",
                        s.name,
                        path.display()
                    )
                })?;
            b.tls_certs_merge(certs)
        }
    };
    b = match &s.proxy {
        Some(url) => b.proxy(
            reqwest::Proxy::all(url)
                .map_err(|_| format!("source `{}`: `proxy` is not a valid URL", s.name))?,
        ),
        None => b.no_proxy(),
    };
    b.build()
        .map_err(|e| format!("source `{}`: cannot set up HTTP: {e}", s.name))
}

/// The answer of one exchange: the HTTP status, its content type, and the body as text.
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    /// `WWW-Authenticate: NTLM [token]`: the token (empty when NTLM is only offered).
    pub ntlm: Option<String>,
}

/// POST the envelope and read the answer (any status: faults come with 500).
pub async fn send(
    client: &reqwest::Client,
    s: &SoapSettings,
    action: &str,
    envelope: String,
) -> Result<Answer, SoapError> {
    let authorization = match &s.auth {
        Auth::Basic { user, password } => {
            use base64::Engine;
            let pair = format!("{user}:{password}");
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            ))
        }
        Auth::Bearer(token) => Some(format!("Bearer {token}")),
        Auth::None | Auth::WsSecurity { .. } | Auth::Ntlm { .. } => None,
    };
    exchange(client, s, action, envelope, authorization).await
}

/// One POST with the given `Authorization` header (basic, bearer, or an NTLM message).
pub async fn exchange(
    client: &reqwest::Client,
    s: &SoapSettings,
    action: &str,
    envelope: String,
    authorization: Option<String>,
) -> Result<Answer, SoapError> {
    let mut req = client.post(&s.endpoint).body(envelope);
    req = match s.version {
        SoapVersion::V11 => req
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", format!("\"{action}\"")),
        SoapVersion::V12 => req.header(
            "Content-Type",
            if action.is_empty() {
                "application/soap+xml; charset=utf-8".to_string()
            } else {
                format!("application/soap+xml; charset=utf-8; action=\"{action}\"")
            },
        ),
    };
    // The call's trace goes on to the service (W3C Trace Context), when traces are exported.
    if let Some(tp) = crate::trace::current_traceparent() {
        req = req.header("traceparent", tp);
    }
    if let Some(a) = authorization {
        let mut value = reqwest::header::HeaderValue::from_str(&a).map_err(|_| {
            SoapError::Call(format!(
                "source `{}`: the credentials cannot be sent in an HTTP header (control characters)",
                s.name
            ))
        })?;
        value.set_sensitive(true);
        req = req.header(reqwest::header::AUTHORIZATION, value);
    }
    let resp = req.send().await.map_err(|e| transport(s, &e))?;
    let ntlm = resp
        .headers()
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let (scheme, token) = v.trim().split_once(' ').unwrap_or((v.trim(), ""));
            scheme
                .eq_ignore_ascii_case("NTLM")
                .then(|| token.trim().to_string())
        });
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if let Some(len) = resp.content_length()
        && len > s.max_response_bytes
    {
        return Err(too_large(s));
    }
    let mut body = Vec::new();
    let mut resp = resp;
    loop {
        let chunk = resp.chunk().await.map_err(|e| {
            SoapError::Call(if e.is_timeout() {
                timed_out(s)
            } else {
                format!(
                    "the answer from source `{}` broke off after {} bytes (HTTP {status}); nothing of it is used",
                    s.name,
                    body.len()
                )
            })
        })?;
        let Some(chunk) = chunk else { break };
        if (body.len() + chunk.len()) as u64 > s.max_response_bytes {
            return Err(too_large(s));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        body: decode(&body, &content_type),
        content_type,
        ntlm,
    })
}

fn timed_out(s: &SoapSettings) -> String {
    format!(
        "source `{}` did not answer within {} s (request_timeout); the call was abandoned",
        s.name,
        s.request_timeout.as_secs_f64()
    )
}

fn too_large(s: &SoapSettings) -> SoapError {
    SoapError::Call(format!(
        "the answer from source `{}` is larger than {} bytes (max_response_size); narrow the request",
        s.name, s.max_response_bytes
    ))
}

fn transport(s: &SoapSettings, e: &reqwest::Error) -> SoapError {
    if e.is_timeout() {
        return SoapError::Call(timed_out(s));
    }
    let mut cause = String::new();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = src {
        cause = c.to_string();
        src = c.source();
    }
    let what = if e.is_connect() {
        "cannot connect to"
    } else {
        "the request failed for"
    };
    SoapError::Call(format!(
        "{what} source `{}` at {}: {}",
        s.name,
        host_of(&s.endpoint),
        if cause.is_empty() {
            e.to_string()
        } else {
            cause
        }
    ))
}

/// `https://nav01:7047/...` -> `nav01:7047`: errors name the host, not a URL that may carry
/// a company name or a query string.
pub fn host_of(endpoint: &str) -> String {
    reqwest::Url::parse(endpoint)
        .ok()
        .and_then(|u| {
            let host = u.host_str()?.to_string();
            Some(match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host,
            })
        })
        .unwrap_or_else(|| "the endpoint".into())
}

/// The body as text: UTF-8 unless the content type or the XML declaration names another
/// charset (old services answer in ISO-8859-1 or windows-1252).
fn decode(body: &[u8], content_type: &str) -> String {
    let from_header = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("charset="))
        .next()
        .map(|c| c.trim_matches('"').to_string());
    let head = String::from_utf8_lossy(&body[..body.len().min(200)]).to_ascii_lowercase();
    let from_decl = head
        .strip_prefix("<?xml")
        .and_then(|d| d.split("?>").next())
        .and_then(|d| d.split("encoding=").nth(1))
        .map(|e| {
            e.trim_start_matches(['"', '\''])
                .split(['"', '\''])
                .next()
                .unwrap_or("")
                .to_string()
        });
    let label = from_header.or(from_decl).unwrap_or_else(|| "utf-8".into());
    let enc = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = enc.decode(body);
    text.into_owned()
}

/// A short, printable excerpt of a non-SOAP answer: an HTML page's title, or its first words
/// with markup removed. Never more than 160 characters.
pub fn excerpt(body: &str) -> String {
    let lower = body.to_ascii_lowercase();
    let title = lower.find("<title").and_then(|i| {
        let start = i + lower[i..].find('>')? + 1;
        let end = start + lower[start..].find("</title")?;
        Some(&body[start..end])
    });
    let source = title.unwrap_or(body);
    let mut text = String::new();
    let mut in_tag = false;
    for c in source.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if in_tag => {}
            c if c.is_control() || c.is_whitespace() => text.push(' '),
            c => text.push(c),
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = words.join(" ");
    if out.chars().count() > 160 {
        out = out.chars().take(157).collect::<String>() + "...";
    }
    out
}

/// The message for an HTTP status that carried no SOAP answer.
pub fn status_message(source: &str, status: u16, detail: &str) -> String {
    let what = match status {
        401 => "the service refused the credentials (HTTP 401 Unauthorized); check the source's `auth`".to_string(),
        403 => "the service denied access (HTTP 403 Forbidden); the account lacks a permission for this operation".to_string(),
        404 => "there is no service at the endpoint (HTTP 404 Not Found); check the source's `endpoint`".to_string(),
        405 => "the endpoint does not accept POST (HTTP 405 Method Not Allowed); `endpoint` probably names a page, not the SOAP service".to_string(),
        s if s >= 500 => format!("the service failed (HTTP {s}) without a SOAP fault"),
        s => format!("the service answered HTTP {s} without a SOAP envelope"),
    };
    let detail = if detail.is_empty() {
        String::new()
    } else {
        format!(": \"{detail}\"")
    };
    format!("source `{source}`: {what}{detail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_and_markup_free() {
        let page = "<html><head><title>Sign in - Contoso ERP</title></head><body><form>...</form></body></html>";
        assert_eq!(excerpt(page), "Sign in - Contoso ERP");
        let long = format!("<p>{}</p>", "word ".repeat(100));
        assert!(excerpt(&long).chars().count() <= 160);
        assert_eq!(excerpt("line1\r\n\tline2\u{7}"), "line1 line2");
        assert_eq!(
            host_of("https://nav01:7047/DynamicsNAV/WS/x?secret=1"),
            "nav01:7047"
        );
    }

    #[test]
    fn charsets_come_from_header_or_declaration() {
        let latin = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r>M\xfcller</r>";
        assert!(decode(latin, "text/xml").contains("Müller"));
        assert!(decode("<r>é</r>".as_bytes(), "text/xml; charset=utf-8").contains('é'));
    }
}
