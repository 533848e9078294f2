//! Who is calling: the principal and its roles, decided once per request by the front end
//! (HTTP credentials, or the operator's settings on stdio) and carried through the pipeline,
//! where roles pick the masking profile and what may be listed and called.
//!
//! - `http`  API keys and bearer JWTs on HTTP, 401 challenges, RFC 9728 metadata
//! - `jwt`   local JWT validation against the issuer's JWKS

pub mod http;
pub mod jwt;

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

    /// The same caller, within the trace its request names (when traces are exported).
    pub fn traced(&self, traceparent: Option<&str>) -> Option<Self> {
        let tp = traceparent.filter(|_| crate::trace::enabled())?;
        let mut who = self.clone();
        who.trace = Some(tp.to_string());
        Some(who)
    }

    /// The operator at the console (`call`, `read`, stdio without settings): no roles, so
    /// every masking policy applies.
    /// The same caller with these claims.
    pub fn with_claims(mut self, claims: serde_json::Map<String, serde_json::Value>) -> Self {
        self.claims = claims;
        self
    }

    pub fn local() -> Self {
        Principal::new("local", Vec::new())
    }
}

/// What the server allows a caller when a tool, resource or prompt names no `allow:` roles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Access {
    /// Refuse everything that does not name the caller's roles in `allow:`.
    pub default_deny: bool,
}

/// In `allow:`, any authenticated caller.
pub const ANY_ROLE: &str = "*";

impl Access {
    /// Whether `who` may see and use something with these `allow:` roles.
    pub fn permits(&self, who: &Principal, allow: Option<&Vec<String>>) -> bool {
        match allow {
            Some(roles) => roles.iter().any(|r| r == ANY_ROLE || who.roles.contains(r)),
            None => !self.default_deny,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_and_the_default() {
        let finance = Principal::new("f", vec!["finance".into()]);
        let nobody = Principal::new("n", vec![]);
        let open = Access::default();
        let closed = Access { default_deny: true };
        let only_finance = Some(vec!["finance".to_string()]);
        assert!(open.permits(&nobody, None));
        assert!(!closed.permits(&nobody, None));
        assert!(closed.permits(&finance, only_finance.as_ref()));
        assert!(!open.permits(&nobody, only_finance.as_ref()));
        assert!(closed.permits(&nobody, Some(&vec![ANY_ROLE.to_string()])));
        assert!(!open.permits(&finance, Some(&vec![])));
    }
}
