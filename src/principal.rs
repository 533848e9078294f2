//! The caller as the pipeline sees it: a name, roles and claims, decided once per request by
//! the front end (`auth`) and read by the mappings (claim-bound parameters, masking profiles,
//! `allow:` roles). Plain data, below everything that reads it.

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// A stable name for the audit log (an API key's owner, a token's subject).
    pub name: String,
    pub roles: Vec<String>,
    /// What the credentials say of the caller: a token's claims, an API key's `claims`.
    /// Parameters with `from: principal.claims.NAME` are bound to them.
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// The request's W3C `traceparent` (header or `_meta`), when traces are exported: the
    /// parent of the call's span. Not an identity; carried here because it travels with the
    /// caller from the transport to the pipeline.
    pub trace: Option<String>,
}

impl Principal {
    pub fn new(name: impl Into<String>, roles: Vec<String>) -> Self {
        Principal {
            name: name.into(),
            roles,
            claims: serde_json::Map::new(),
            trace: None,
        }
    }

    /// The same caller with these claims.
    pub fn with_claims(mut self, claims: serde_json::Map<String, serde_json::Value>) -> Self {
        self.claims = claims;
        self
    }

    /// The operator at the console (`call`, `read`, stdio without settings): no roles, so
    /// every masking policy applies.
    pub fn local() -> Self {
        Principal::new("local", Vec::new())
    }
}
