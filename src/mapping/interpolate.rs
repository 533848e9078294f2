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
        return read_secret(&path)
            .map(|text| text.trim_end_matches(['\r', '\n']).to_string())
            .map_err(|e| format!("cannot read secret file `{}`: {e}", path.display()));
    }
    Err(format!(
        "`${{{reference}}}` is not a known reference; use ${{env:NAME}} or ${{file:PATH}}"
    ))
}

/// The most a secret file may hold: a key, a password, a certificate chain fit many times.
const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// A secret file's text: a regular file (a FIFO would block `open` until a writer comes, a
/// device such as `/dev/zero` never ends) of at most `MAX_SECRET_BYTES`.
fn read_secret(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(|e| e.to_string())?
        .take(MAX_SECRET_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_SECRET_BYTES {
        return Err(format!(
            "larger than {} KiB; a secret file holds one value",
            MAX_SECRET_BYTES / 1024
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn secret_files_are_bounded_and_regular() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("big"), vec![b'x'; 70 * 1024]).unwrap();
        let err = super::interpolate("${file:big}", dir.path()).unwrap_err();
        assert!(err.contains("larger than 64 KiB"), "{err}");
        #[cfg(unix)]
        {
            let err = super::interpolate("${file:/dev/zero}", dir.path()).unwrap_err();
            assert!(err.contains("not a regular file"), "{err}");
            let fifo = dir.path().join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                let err = super::interpolate("${file:fifo}", dir.path()).unwrap_err();
                assert!(err.contains("not a regular file"), "{err}");
            }
        }
    }

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
