//! Who is calling: the principal and its roles, decided once per request by the front end
//! (HTTP credentials, or the operator's settings on stdio) and carried through the pipeline,
//! where roles pick the masking profile and what may be listed and called.
//!
//! - `http`  API keys and bearer JWTs on HTTP, 401 challenges, RFC 9728 metadata
//! - `jwt`   local JWT validation against the issuer's JWKS

pub mod http;
pub mod jwt;

// The caller itself lives below the mappings that bind parameters to it (`principal.rs`).
pub use crate::principal::Principal;

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
