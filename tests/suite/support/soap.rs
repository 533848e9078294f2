//! A SOAP fixture server for what a real SOAP stack will not produce on demand: HTML login
//! pages, bare error statuses, empty, truncated, oversized and hostile bodies, hanging answers,
//! SOAP 1.2 faults with subcodes, rpc/encoded multiRef answers, embedded result documents, and
//! WS-Security and basic-auth checks, and an NTLM server (`/ntlm`) that verifies NTLMv2
//! responses itself (MD4, HMAC-MD5, per MS-NLMP) and remembers which account each TCP
//! connection signed in as. Each behaviour has its own path; every request is kept so tests
//! can look at what the adapter sent.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use sha1::{Digest, Sha1};

pub const ENV11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const ENV12: &str = "http://www.w3.org/2003/05/soap-envelope";
pub const USER: &str = "mcp";
pub const PASSWORD: &str = "s3cret<&>";

/// One request as the fixture received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

#[derive(Clone, Default)]
pub struct Fixture {
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// NTLM state per TCP connection, by the client's address.
    pub ntlm: Arc<Mutex<HashMap<SocketAddr, NtlmConn>>>,
    /// The item number the `changing` path answers with, set by the test.
    pub item: Arc<Mutex<String>>,
}

impl Fixture {
    /// Keep a request for the test to look at; its body as text.
    fn record(&self, path: &str, headers: &HeaderMap, body: &[u8]) -> String {
        let text = String::from_utf8_lossy(body).to_string();
        self.seen.lock().unwrap().push(Seen {
            path: path.to_string(),
            headers: headers.clone(),
            body: text.clone(),
        });
        text
    }
}

/// What the NTLM server knows about one connection.
#[derive(Debug, Clone, Default)]
pub struct NtlmConn {
    challenge: Option<[u8; 8]>,
    /// `DOMAIN\user` once the connection signed in.
    pub user: Option<String>,
    /// Completed sign-ins on this connection.
    pub handshakes: u32,
}

/// The accounts the NTLM server accepts: (domain, user, password).
pub const NTLM_ACCOUNTS: &[(&str, &str, &str)] = &[
    ("CRONUS", "mcp", "nav-Pa55<&>"),
    ("CRONUS", "auditor", "another one"),
];

pub struct Running {
    pub base: String,
    pub fixture: Fixture,
}

impl Running {
    pub fn seen(&self) -> Vec<Seen> {
        self.fixture.seen.lock().unwrap().clone()
    }
}

pub async fn start() -> Running {
    let fixture = Fixture::default();
    let app = Router::new()
        .route("/ntlm", post(ntlm))
        .route("/{behaviour}", post(answer))
        .with_state(fixture.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await.ok() });
    Running { base, fixture }
}

fn envelope11(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{ENV11}"><s:Body>{body}</s:Body></s:Envelope>"#
    )
}

fn xml(status: StatusCode, content_type: &str, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, content_type.to_string())],
        body,
    )
        .into_response()
}

fn ok11(body: &str) -> Response {
    xml(StatusCode::OK, "text/xml; charset=utf-8", envelope11(body))
}

fn fault11(code: &str, text: &str) -> Response {
    xml(
        StatusCode::INTERNAL_SERVER_ERROR,
        "text/xml; charset=utf-8",
        envelope11(&format!(
            "<s:Fault><faultcode>s:{code}</faultcode><faultstring>{}</faultstring></s:Fault>",
            text.replace('&', "&amp;").replace('<', "&lt;")
        )),
    )
}

async fn answer(
    State(f): State<Fixture>,
    Path(behaviour): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = f.record(&behaviour, &headers, &body);
    let ok_item = r#"<m:GetItemResponse xmlns:m="urn:x"><m:Item><m:No>1000</m:No></m:Item></m:GetItemResponse>"#;
    match behaviour.as_str() {
        "ok" => ok11(ok_item),
        // An answer the test changes (live resource updates).
        "changing" => ok11(&format!(
            r#"<m:GetItemResponse xmlns:m="urn:x"><m:Item><m:No>{}</m:No></m:Item></m:GetItemResponse>"#,
            f.item.lock().unwrap()
        )),
        "html" => xml(
            StatusCode::OK,
            "text/html; charset=utf-8",
            "<!DOCTYPE html><html><head><title>Sign in to Contoso ERP</title></head><body><form><input name=password></form></body></html>".into(),
        ),
        "unauthorized" => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Negotiate")],
            "",
        )
            .into_response(),
        "forbidden" => xml(StatusCode::FORBIDDEN, "text/plain", "Access denied for CORP\\mcp".into()),
        "missing" => xml(StatusCode::NOT_FOUND, "text/html", "<html><body><h1>404 Not Found</h1></body></html>".into()),
        "method" => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        "empty" => xml(StatusCode::OK, "text/xml", String::new()),
        "truncated" => {
            let full = envelope11(ok_item);
            xml(StatusCode::OK, "text/xml", full[..full.len() / 2].to_string())
        }
        "bomb" => xml(
            StatusCode::OK,
            "text/xml",
            format!(
                r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">{}]><s:Envelope xmlns:s="{ENV11}"><s:Body><r>&lol9;</r></s:Body></s:Envelope>"#,
                (1..10)
                    .map(|i| format!("<!ENTITY lol{i} \"{}\">", format!("&lol{};", if i == 1 { String::new() } else { (i - 1).to_string() }).repeat(10)))
                    .collect::<String>()
            ),
        ),
        "xxe" => xml(
            StatusCode::OK,
            "text/xml",
            format!(r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><s:Envelope xmlns:s="{ENV11}"><s:Body><r>&x;</r></s:Body></s:Envelope>"#),
        ),
        "deep" => ok11(&format!("{}{}", "<d>".repeat(500), "</d>".repeat(500))),
        "big" => ok11(&format!("<r>{}</r>", "x".repeat(300_000))),
        "hang" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            ok11(ok_item)
        }
        // A good answer after 300 ms: long enough for identical calls to meet (single-flight
        // across replicas); the test counts how many reached the backend.
        "counted" => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            ok11(ok_item)
        }
        // A slow but good answer: a call under way when a shutdown begins.
        "slow" => {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            ok11(ok_item)
        }
        "fault11" => fault11("Client.NotFound", "Item 9999 does not exist"),
        // A careless service: its fault repeats the credentials it was sent (the WS-Security
        // password as it stood in the request, escaped; the Authorization header).
        "echo_credentials" => {
            let password = text
                .split_once("Password")
                .and_then(|(_, rest)| rest.split_once('>'))
                .and_then(|(_, rest)| rest.split_once("</"))
                .map_or("", |(p, _)| p);
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            xml(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/xml; charset=utf-8",
                envelope11(&format!(
                    "<s:Fault><faultcode>s:Client.Login</faultcode><faultstring>Login failed for mcp with password {password}</faultstring><detail><m:Request xmlns:m=\"urn:x\">Authorization: {auth}</m:Request></detail></s:Fault>"
                )),
            )
        }
        "fault11_200" => xml(
            StatusCode::OK,
            "text/xml",
            envelope11("<s:Fault><faultcode>s:Server</faultcode><faultstring>Posting date is not within your range of allowed posting dates.</faultstring><detail><string xmlns=\"urn:nav\">Posting date is not within your range of allowed posting dates.</string></detail></s:Fault>"),
        ),
        "fault12" => xml(
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/soap+xml; charset=utf-8",
            format!(r#"<env:Envelope xmlns:env="{ENV12}"><env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value xmlns:m="urn:erp">m:ItemBlocked</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">Item 1000 is blocked for sales</env:Text></env:Reason><env:Detail><m:Info xmlns:m="urn:erp">Blocked since 2026-10-01</m:Info></env:Detail></env:Fault></env:Body></env:Envelope>"#),
        ),
        "ok12" => xml(
            StatusCode::OK,
            "application/soap+xml; charset=utf-8",
            format!(r#"<env:Envelope xmlns:env="{ENV12}"><env:Body>{ok_item}</env:Body></env:Envelope>"#),
        ),
        "not_soap" => xml(StatusCode::OK, "text/xml", "<status>maintenance</status>".into()),
        "multiref" => ok11(
            r##"<ns1:getItemsResponse xmlns:ns1="urn:x" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><getItemsReturn xsi:type="soapenc:Array" soapenc:arrayType="ns2:Item[2]" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><item href="#id0"/><item href="#id1"/></getItemsReturn></ns1:getItemsResponse><multiRef id="id0"><No>1000</No><Price>4000.00</Price></multiRef><multiRef id="id1"><No>1001</No><Price>4500.00</Price></multiRef>"##,
        ),
        // Hostile: 2,000 rows referencing one element with 20,000 children, and a column
        // that is in none of them: every row would scan them all (40 million visits).
        "href_bomb" => {
            let rows = r##"<item href="#big"/>"##.repeat(2_000);
            let children = "<Filler>x</Filler>".repeat(20_000);
            ok11(&format!(
                r##"<ns1:getItemsResponse xmlns:ns1="urn:x"><getItemsReturn>{rows}</getItemsReturn></ns1:getItemsResponse><multiRef id="big">{children}</multiRef>"##
            ))
        }
        // Slow but within every budget: 64 rows referencing one element with 500,000 empty
        // children, and a column in none of them (32 million visits, 2 MB of text). It takes
        // seconds to read, which is what the abandonment test needs.
        "slow_project" => {
            let rows = r##"<item href="#big"/>"##.repeat(64);
            let children = "<F/>".repeat(500_000);
            ok11(&format!(
                r##"<ns1:getItemsResponse xmlns:ns1="urn:x"><getItemsReturn>{rows}</getItemsReturn></ns1:getItemsResponse><multiRef id="big">{children}</multiRef>"##
            ))
        }
        // A flood of tiny elements: 2 million `<a/>` in 8 MB (the issue's 350 MB answer).
        "tiny_flood" => ok11(&format!(
            r#"<ns1:getItemsResponse xmlns:ns1="urn:x"><getItemsReturn>{}</getItemsReturn></ns1:getItemsResponse>"#,
            "<a/>".repeat(2_000_000)
        )),
        "embedded" => ok11(
            r#"<runResponse xmlns="urn:x3"><runReturn><status>1</status><resultXml>&lt;RESULT&gt;&lt;TAB ID="ITM"&gt;&lt;LIN NUM="1"&gt;&lt;FLD NAME="ITMREF"&gt;BMS001&lt;/FLD&gt;&lt;/LIN&gt;&lt;LIN NUM="2"&gt;&lt;FLD NAME="ITMREF"&gt;BMS002&lt;/FLD&gt;&lt;/LIN&gt;&lt;/TAB&gt;&lt;/RESULT&gt;</resultXml></runReturn></runResponse>"#,
        ),
        // A Dynamics NAV page's Read answer: a sales order whose second line has no
        // Description element (NAV leaves out empty fields).
        "nav_order" => ok11(
            r#"<Read_Result xmlns="urn:microsoft-dynamics-schemas/page/salesorder"><SalesOrder><No>SO1001</No><Sell_to_Customer_Name>Contoso</Sell_to_Customer_Name><SalesLines><Sales_Order_Line><Line_No>10000</Line_No><No>1896-S</No><Description>ATHENS Desk</Description><Quantity>2</Quantity></Sales_Order_Line><Sales_Order_Line><Line_No>20000</Line_No><No>1900-S</No><Quantity>1</Quantity></Sales_Order_Line><Sales_Order_Line><Line_No>30000</Line_No><No>1908-S</No><Description>LONDON Swivel Chair</Description><Quantity>5.5</Quantity></Sales_Order_Line></SalesLines></SalesOrder></Read_Result>"#,
        ),
        "embedded_json" => ok11(
            r#"<getJsonResponse xmlns="urn:x"><return>{"items":[{"no":"A1","qty":3},{"no":"A2","qty":5}]}</return></getJsonResponse>"#,
        ),
        "bad_value" => ok11(r#"<m:GetItemResponse xmlns:m="urn:x"><m:Item><m:No>1000</m:No><m:Price>twelve</m:Price><m:Secret>not-a-number-4711</m:Secret></m:Item></m:GetItemResponse>"#),
        "wssec" => match check_ws_security(&text) {
            Ok(()) => ok11(ok_item),
            Err(why) => fault11("Client.Authentication", &why),
        },
        "basic" => {
            let expected = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
            );
            if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(expected.as_str()) {
                ok11(ok_item)
            } else {
                (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Basic realm=\"erp\"")], "").into_response()
            }
        }
        "bearer" => {
            if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some("Bearer tok-123") {
                ok11(ok_item)
            } else {
                StatusCode::UNAUTHORIZED.into_response()
            }
        }
        "echo" => {
            // Answers with the text of the request's <text> element (parsed as a server would).
            let start = text.find("<text").and_then(|i| text[i..].find('>').map(|j| i + j + 1));
            let end = text.find("</text>");
            let inner = match (start, end) {
                (Some(s), Some(e)) if s <= e => &text[s..e],
                _ => "",
            };
            ok11(&format!("<EchoResponse xmlns=\"urn:x\"><text>{inner}</text></EchoResponse>"))
        }
        "nav" => nav(&headers, &text),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The recorded NAV page-service answers in fixtures/soap/nav, chosen the way NAV would: by
/// SOAPAction, the record number and the bookmark.
fn nav(headers: &HeaderMap, body: &str) -> Response {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/soap/nav");
    let file = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let action = headers
        .get("soapaction")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if action.ends_with(":Read\"") {
        return if body.contains(">10000</No>") {
            xml(
                StatusCode::OK,
                "text/xml; charset=utf-8",
                file("Read_10000.xml"),
            )
        } else {
            xml(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/xml; charset=utf-8",
                file("Read_fault.xml"),
            )
        };
    }
    if action.ends_with(":ReadMultiple\"") {
        let page = if body.contains("<bookmarkKey>") {
            "ReadMultiple_page2.xml"
        } else {
            "ReadMultiple_page1.xml"
        };
        return xml(StatusCode::OK, "text/xml; charset=utf-8", file(page));
    }
    StatusCode::BAD_REQUEST.into_response()
}

/// The UsernameToken profile's checks: user, digest over nonce + created + password, and a
/// fresh `Created` (within 5 minutes).
fn check_ws_security(body: &str) -> Result<(), String> {
    let between = |open: &str, close: &str| -> Option<String> {
        let i = body.find(open)?;
        let start = i + body[i..].find('>')? + 1;
        let end = start + body[start..].find(close)?;
        Some(body[start..end].to_string())
    };
    let user = between("<wsse:Username>", "</wsse:Username>").ok_or("no Username")?;
    if user != USER {
        return Err(format!("unknown user {user}"));
    }
    if !body.contains("#PasswordDigest") {
        return Err("expected a PasswordDigest".into());
    }
    let nonce = between("<wsse:Nonce", "</wsse:Nonce>").ok_or("no Nonce")?;
    let created = between("<wsu:Created", "</wsu:Created>").ok_or("no Created")?;
    let digest = between("<wsse:Password", "</wsse:Password>").ok_or("no Password")?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut h = Sha1::new();
    h.update(b64.decode(&nonce).map_err(|_| "bad nonce")?);
    h.update(created.as_bytes());
    h.update(PASSWORD.as_bytes());
    if b64.encode(h.finalize()) != digest {
        return Err("The security token could not be authenticated".into());
    }
    let at = chrono::DateTime::parse_from_rfc3339(&created).map_err(|_| "bad Created")?;
    if (chrono::Utc::now() - at.with_timezone(&chrono::Utc))
        .num_seconds()
        .abs()
        > 300
    {
        return Err("stale Created".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// NTLM: Negotiate -> 401 with a Challenge -> Authenticate (verified) -> the connection is the
// account's; requests without credentials on it are served, on other connections refused.

async fn ntlm(
    State(f): State<Fixture>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    f.record("ntlm", &headers, &body);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("NTLM "))
        .map(|t| base64::engine::general_purpose::STANDARD.decode(t));
    let mut conns = f.ntlm.lock().unwrap();
    let conn = conns.entry(peer).or_default();
    match token {
        Some(Ok(msg)) if msg.len() >= 12 && &msg[..8] == b"NTLMSSP\0" => {
            match u32::from_le_bytes(msg[8..12].try_into().unwrap()) {
                1 => {
                    let mut challenge = [0u8; 8];
                    getrandom::fill(&mut challenge).unwrap();
                    conn.challenge = Some(challenge);
                    conn.user = None;
                    let b64 = base64::engine::general_purpose::STANDARD
                        .encode(challenge_message(challenge));
                    return (
                        StatusCode::UNAUTHORIZED,
                        [(header::WWW_AUTHENTICATE, format!("NTLM {b64}"))],
                        "",
                    )
                        .into_response();
                }
                3 => match conn
                    .challenge
                    .take()
                    .ok_or("no challenge on this connection".to_string())
                    .and_then(|c| verify(&msg, c))
                {
                    Ok(user) => {
                        conn.user = Some(user);
                        conn.handshakes += 1;
                    }
                    Err(why) => return (StatusCode::UNAUTHORIZED, why).into_response(),
                },
                _ => return StatusCode::BAD_REQUEST.into_response(),
            }
        }
        Some(_) => return StatusCode::BAD_REQUEST.into_response(),
        None if conn.user.is_none() => {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "NTLM")],
                "",
            )
                .into_response();
        }
        None => {}
    }
    ok11(&format!(
        r#"<WhoAmIResponse xmlns="urn:fixture"><user>{}</user><handshakes>{}</handshakes><bodyBytes>{}</bodyBytes></WhoAmIResponse>"#,
        conn.user.as_deref().unwrap_or_default(),
        conn.handshakes,
        body.len()
    ))
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// A Type 2 message (MS-NLMP 2.2.1.2): target name, flags, challenge, target info.
fn challenge_message(challenge: [u8; 8]) -> Vec<u8> {
    let target = utf16("CRONUS");
    let mut info = Vec::new();
    for (kind, value) in [(2u16, "CRONUS"), (1, "NAV01")] {
        let v = utf16(value);
        info.extend_from_slice(&kind.to_le_bytes());
        info.extend_from_slice(&(v.len() as u16).to_le_bytes());
        info.extend_from_slice(&v);
    }
    info.extend_from_slice(&[0, 0, 0, 0]); // MsvAvEOL
    let flags: u32 = 0x0000_0001 | 0x0000_0004 | 0x0000_0200 | 0x0001_0000 | 0x0080_0000;
    let mut m = Vec::new();
    m.extend_from_slice(b"NTLMSSP\0");
    m.extend_from_slice(&2u32.to_le_bytes());
    let target_at = 56u32;
    let info_at = target_at + target.len() as u32;
    m.extend_from_slice(&(target.len() as u16).to_le_bytes());
    m.extend_from_slice(&(target.len() as u16).to_le_bytes());
    m.extend_from_slice(&target_at.to_le_bytes());
    m.extend_from_slice(&flags.to_le_bytes());
    m.extend_from_slice(&challenge);
    m.extend_from_slice(&[0; 8]);
    m.extend_from_slice(&(info.len() as u16).to_le_bytes());
    m.extend_from_slice(&(info.len() as u16).to_le_bytes());
    m.extend_from_slice(&info_at.to_le_bytes());
    m.extend_from_slice(&[0; 8]); // version
    assert_eq!(m.len(), 56);
    m.extend_from_slice(&target);
    m.extend_from_slice(&info);
    m
}

/// A security buffer's bytes (length at `at`, offset at `at + 4`).
fn field(msg: &[u8], at: usize) -> Result<&[u8], String> {
    let len = u16::from_le_bytes(msg[at..at + 2].try_into().unwrap()) as usize;
    let off = u32::from_le_bytes(msg[at + 4..at + 8].try_into().unwrap()) as usize;
    msg.get(off..off + len)
        .ok_or_else(|| "a field points outside the message".to_string())
}

fn from_utf16(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c.get(1).copied().unwrap_or(0)]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// Check a Type 3 message's NTLMv2 response against the known accounts: NTProofStr =
/// HMAC-MD5(NTOWFv2, server challenge + blob), NTOWFv2 = HMAC-MD5(MD4(UTF-16 password),
/// UTF-16(UPPER(user) + domain)). The account, as `DOMAIN\user`.
fn verify(msg: &[u8], challenge: [u8; 8]) -> Result<String, String> {
    use hmac::{Hmac, KeyInit, Mac};
    use md4::{Digest, Md4};
    if msg.len() < 64 {
        return Err("the Authenticate message is too short".into());
    }
    let nt = field(msg, 20)?;
    let domain = from_utf16(field(msg, 28)?);
    let user = from_utf16(field(msg, 36)?);
    if nt.len() <= 24 {
        return Err("not an NTLMv2 response".into());
    }
    let (proof, blob) = nt.split_at(16);
    let Some((_, _, password)) = NTLM_ACCOUNTS
        .iter()
        .find(|(d, u, _)| d.eq_ignore_ascii_case(&domain) && u.eq_ignore_ascii_case(&user))
    else {
        return Err(format!("no account {domain}\\{user}"));
    };
    let nt_hash = Md4::digest(utf16(password));
    let mut h = <Hmac<md5::Md5> as KeyInit>::new_from_slice(&nt_hash).unwrap();
    h.update(&utf16(&(user.to_uppercase() + &domain)));
    let owf = h.finalize().into_bytes();
    let mut h = <Hmac<md5::Md5> as KeyInit>::new_from_slice(&owf).unwrap();
    h.update(&challenge);
    h.update(blob);
    if h.finalize().into_bytes().as_slice() != proof {
        return Err("wrong password".into());
    }
    Ok(format!("{domain}\\{user}"))
}
