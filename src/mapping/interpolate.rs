//! Secrets and machine-specific values are never written inline: `${env:NAME}` and
//! `${file:PATH}` are replaced at load time. `$${` writes a literal `${`. Error messages name the
//! variable or file, never the value.

use std::path::Path;

/// Replace every `${env:NAME}` / `${file:PATH}` in `text`. Relative file paths resolve against
/// `base_dir` (the mapping file's directory); a trailing newline of a secret file is dropped.
pub fn interpolate(text: &str, base_dir: &Path) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        if rest[..at].ends_with('$') {
            out.push_str(&rest[..at - 1]);
            out.push_str("${");
            rest = &rest[at + 2..];
            continue;
        }
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unclosed `${{` in `{text}`"))?;
        out.push_str(&resolve(&after[..end], base_dir)?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn resolve(reference: &str, base_dir: &Path) -> Result<String, String> {
    if let Some(name) = reference.strip_prefix("env:") {
        return std::env::var(name)
            .map_err(|_| format!("environment variable `{name}` is not set"));
    }
    if let Some(file) = reference.strip_prefix("file:") {
        let path = base_dir.join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read secret file `{}`: {e}", path.display()))?;
        return Ok(text.trim_end_matches(['\r', '\n']).to_string());
    }
    Err(format!(
        "`${{{reference}}}` is not a known reference; use ${{env:NAME}} or ${{file:PATH}}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_and_file_references_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw.txt"), "s3cret\n").unwrap();
        // SAFETY: tests in this module are the only readers of this variable.
        unsafe { std::env::set_var("LEGACY_MCP_TEST_DIR", "/exports") };
        let got = interpolate(
            "${env:LEGACY_MCP_TEST_DIR}/x;pw=${file:pw.txt};$${lit}",
            dir.path(),
        );
        assert_eq!(got.unwrap(), "/exports/x;pw=s3cret;${lit}");
    }

    #[test]
    fn missing_variable_is_named_without_value() {
        let err = interpolate("${env:LEGACY_MCP_SURELY_UNSET}", Path::new(".")).unwrap_err();
        assert_eq!(
            err,
            "environment variable `LEGACY_MCP_SURELY_UNSET` is not set"
        );
        assert!(interpolate("${vault:x}", Path::new(".")).is_err());
    }
}
