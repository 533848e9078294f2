//! The keys of a `kind: soap` source (the endpoint, protocol version, authentication, extra
//! SOAP headers and answer limits, beside the TLS kinds' shared `ConnectKeys`) and of a tool on
//! one (the operation, where the rows are in the answer, their columns).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::backend::soap::operation_keys::{BodyNode, OperationDef, ResponseDef};
use crate::mapping::model::ColumnDef;
use crate::mapping::units::{DurationText, SizeText};

/// The keys of a tool on a soap source.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SoapToolKeys {
    /// The request: the body element, its namespace, the SOAPAction and the body's
    /// elements bound from parameters.
    #[serde(default)]
    #[schemars(with = "Option<OperationDef>")]
    pub operation: Option<Spanned<OperationDef>>,
    /// Where the rows are in the answer.
    #[serde(default)]
    #[schemars(with = "Option<ResponseDef>")]
    pub response: Option<Spanned<ResponseDef>>,
    /// The result columns, in order, with their types. `import-wsdl` writes them.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, ColumnDef>")]
    pub columns: IndexMap<String, Spanned<ColumnDef>>,
}

/// The keys only a soap source takes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SoapKeys {
    /// The service's URL. `${env:NAME}` allowed.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub endpoint: Option<Spanned<String>>,
    /// `"1.1"` (default) or `"1.2"`.
    #[serde(default)]
    pub soap_version: Option<SoapVersion>,
    /// The default namespace URI of operation elements.
    #[serde(default)]
    pub namespace: Option<String>,
    /// How long a whole request may take, answer included (default 30s).
    #[serde(default)]
    pub request_timeout: Option<DurationText>,
    /// An HTTP proxy URL (`http://proxy:3128`). Default: none (environment variables are
    /// not consulted, so a service account behaves like the integrator's shell).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub proxy: Option<Spanned<String>>,
    /// How the source authenticates: `basic`, `ws_security` or `bearer`.
    #[serde(default)]
    #[schemars(with = "Option<SoapAuthDef>")]
    pub auth: Option<Spanned<SoapAuthDef>>,
    /// Extra SOAP header elements sent with every request.
    #[serde(default)]
    #[schemars(with = "Vec<SoapHeaderDef>")]
    pub soap_headers: Vec<Spanned<SoapHeaderDef>>,
    /// The largest answer read (default 10MB); a larger one is an error, never cut.
    #[serde(default)]
    pub max_response_size: Option<SizeText>,
    /// The deepest element nesting accepted in an answer (default 64).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub max_xml_depth: Option<Spanned<u32>>,
}

/// The SOAP protocol version a source speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum SoapVersion {
    /// SOAP 1.1: `text/xml` and a quoted `SOAPAction` header (default).
    #[default]
    #[serde(rename = "1.1")]
    V11,
    /// SOAP 1.2: `application/soap+xml; action="..."`.
    #[serde(rename = "1.2")]
    V12,
}

/// How a SOAP source authenticates. Give exactly one.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SoapAuthDef {
    /// HTTP basic authentication.
    #[serde(default)]
    pub basic: Option<UserPassword>,
    /// A WS-Security `UsernameToken` in the SOAP header.
    #[serde(default)]
    pub ws_security: Option<WsSecurityDef>,
    /// An OAuth or API bearer token in the `Authorization` header.
    #[serde(default)]
    pub bearer: Option<BearerDef>,
    /// Windows NTLM (Dynamics NAV on-premises' default): `user` is `DOMAIN\user` or
    /// `user@domain`. Each connection is authenticated once, as this account only.
    #[serde(default)]
    pub ntlm: Option<UserPassword>,
}

/// A user name and password; write the password as `${env:NAME}` or `${file:PATH}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPassword {
    #[schemars(with = "String")]
    pub user: Spanned<String>,
    #[schemars(with = "String")]
    pub password: Spanned<String>,
}

/// How a WS-Security password travels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PasswordType {
    /// `PasswordText`: the password itself (use only over HTTPS) (default).
    #[default]
    Text,
    /// `PasswordDigest`: Base64(SHA-1(nonce + created + password)), with a fresh nonce and
    /// timestamp per request.
    Digest,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WsSecurityDef {
    #[schemars(with = "String")]
    pub user: Spanned<String>,
    #[schemars(with = "String")]
    pub password: Spanned<String>,
    /// `text` (default) or `digest`.
    #[serde(default)]
    pub password_type: PasswordType,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BearerDef {
    /// The token; write `${env:NAME}` or `${file:PATH}`.
    #[schemars(with = "String")]
    pub token: Spanned<String>,
}

/// An extra SOAP header element sent with every request of the source (Oracle EBS
/// `SOAHeader`, Sage X3 `CAdxCallContext`). Values are fixed (`${env:...}` allowed).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SoapHeaderDef {
    /// The header element's local name.
    #[schemars(with = "String")]
    pub element: Spanned<String>,
    /// Its namespace URI.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Child elements, in order: `name: "text"` or `name: { value | children, namespace }`.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, BodyNode>")]
    pub children: IndexMap<String, Spanned<BodyNode>>,
    /// The element's own text, when it has no children.
    #[serde(default)]
    pub value: Option<String>,
}
