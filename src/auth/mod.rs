//! Who is calling: the principal and its roles, decided once per request by the front end
//! (HTTP credentials, or the operator's settings on stdio) and carried through the pipeline,
//! where roles pick the masking profile and what may be listed and called.

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// A stable name for the audit log (an API key's owner, a token's subject).
    pub name: String,
    pub roles: Vec<String>,
}

impl Principal {
    pub fn new(name: impl Into<String>, roles: Vec<String>) -> Self {
        Principal {
            name: name.into(),
            roles,
        }
    }

    /// The operator at the console (`call`, `read`, stdio without settings): no roles, so
    /// every masking policy applies.
    pub fn local() -> Self {
        Principal::new("local", Vec::new())
    }
}
