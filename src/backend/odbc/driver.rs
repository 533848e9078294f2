//! Finding ODBC drivers the way Debian's own driver manager does.
//!
//! The driver manager built into this binary on unix (vendored unixODBC) reads the system's
//! `odbcinst.ini` and `odbc.ini`, but loads a driver registered by bare file name
//! (`Driver=psqlodbcw.so`, as Debian's packages register them) only from its compiled-in library
//! path, which lacks Debian's multiarch directory (`/usr/lib/x86_64-linux-gnu/odbc`). So before
//! connecting, a `Driver={PostgreSQL Unicode}` (or a `DSN=` whose entry names such a driver) is
//! looked up here and, when its library is a bare name, replaced by the library's full path.
//! Everything else in the connection string is passed on untouched. On Windows the system
//! driver manager (odbc32) is used and nothing is rewritten.

use std::path::{Path, PathBuf};

/// One `key=value` attribute of a connection string, in its original spelling.
#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub key: String,
    pub value: String,
}

/// Split a connection string into attributes. Values may be braced (`{a;b}`, `}}` escapes `}`).
pub fn parse(conn: &str) -> Vec<Attr> {
    let mut out = Vec::new();
    let chars: Vec<char> = conn.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let mut key = String::new();
        while i < chars.len() && chars[i] != '=' && chars[i] != ';' {
            key.push(chars[i]);
            i += 1;
        }
        let mut value = String::new();
        if i < chars.len() && chars[i] == '=' {
            i += 1;
            if i < chars.len() && chars[i] == '{' {
                i += 1;
                while i < chars.len() {
                    if chars[i] == '}' {
                        if chars.get(i + 1) == Some(&'}') {
                            value.push('}');
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    value.push(chars[i]);
                    i += 1;
                }
            }
            while i < chars.len() && chars[i] != ';' {
                value.push(chars[i]);
                i += 1;
            }
        }
        i += 1; // the `;`
        let key = key.trim().to_string();
        if !key.is_empty() {
            out.push(Attr { key, value });
        }
    }
    out
}

/// Join attributes back into a connection string, bracing values that need it.
pub fn join(attrs: &[Attr]) -> String {
    attrs
        .iter()
        .map(|a| {
            if a.value.contains([';', '{', '}']) || a.value != a.value.trim() {
                format!("{}={{{}}}", a.key, a.value.replace('}', "}}"))
            } else {
                format!("{}={}", a.key, a.value)
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Values of password-like attributes, to be scrubbed from any message.
pub fn secrets(conn: &str) -> Vec<String> {
    parse(conn)
        .into_iter()
        .filter(|a| {
            let k = a.key.to_ascii_lowercase();
            (k == "pwd" || k.contains("password") || k.contains("secret") || k.contains("token"))
                && !a.value.is_empty()
        })
        .map(|a| a.value)
        .collect()
}

fn get<'a>(attrs: &'a [Attr], key: &str) -> Option<&'a Attr> {
    attrs.iter().find(|a| a.key.eq_ignore_ascii_case(key))
}

/// Rewrite `conn` so the vendored driver manager can load its driver (see the module doc).
pub fn resolve(conn: &str) -> String {
    if cfg!(windows) {
        return conn.to_string();
    }
    resolve_with(conn, &IniFiles::system())
}

/// Where the driver manager's ini files are.
pub struct IniFiles {
    pub odbcinst: Vec<PathBuf>,
    pub odbc: Vec<PathBuf>,
    pub lib_dirs: Vec<PathBuf>,
}

impl IniFiles {
    fn system() -> IniFiles {
        let env_dir = std::env::var_os("ODBCSYSINI").map(PathBuf::from);
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let mut odbcinst = Vec::new();
        let mut odbc = Vec::new();
        if let Some(p) = std::env::var_os("ODBCINSTINI") {
            odbcinst.push(env_dir.clone().unwrap_or_default().join(p));
        }
        if let Some(p) = std::env::var_os("ODBCINI") {
            odbc.push(PathBuf::from(p));
        }
        if let Some(h) = &home {
            odbcinst.push(h.join(".odbcinst.ini"));
            odbc.push(h.join(".odbc.ini"));
        }
        let sys = env_dir.unwrap_or_else(|| PathBuf::from("/etc"));
        odbcinst.push(sys.join("odbcinst.ini"));
        odbc.push(sys.join("odbc.ini"));
        let arch = std::env::consts::ARCH;
        let lib_dirs = [
            format!("/usr/lib/{arch}-linux-gnu/odbc"),
            format!("/usr/lib/{arch}-linux-gnu"),
            "/usr/lib64/odbc".into(),
            "/usr/lib64".into(),
            "/usr/lib/odbc".into(),
            "/usr/lib".into(),
            "/usr/local/lib".into(),
        ]
        .into_iter()
        .map(PathBuf::from)
        .collect();
        IniFiles {
            odbcinst,
            odbc,
            lib_dirs,
        }
    }

    fn driver_library(&self, driver: &str) -> Option<String> {
        self.odbcinst.iter().find_map(|f| {
            let section = ini_section(f, driver)?;
            get(&section, "Driver64")
                .or_else(|| get(&section, "Driver"))
                .map(|a| a.value.clone())
        })
    }

    /// A bare library name found in one of the usual directories, as a full path.
    fn locate(&self, library: &str) -> Option<String> {
        if library.contains('/') {
            return None;
        }
        self.lib_dirs
            .iter()
            .map(|d| d.join(library))
            .find(|p| p.is_file())
            .map(|p| p.to_string_lossy().into_owned())
    }
}

pub fn resolve_with(conn: &str, files: &IniFiles) -> String {
    let mut attrs = parse(conn);
    if let Some(i) = attrs
        .iter()
        .position(|a| a.key.eq_ignore_ascii_case("driver"))
    {
        let name = attrs[i].value.clone();
        if let Some(path) = files
            .driver_library(&name)
            .and_then(|lib| files.locate(&lib))
        {
            attrs[i].value = path;
            return join(&attrs);
        }
        return conn.to_string();
    }
    // A DSN whose driver needs locating: connect DSN-less with the DSN's own attributes,
    // letting the connection string's attributes win.
    let Some(dsn) = get(&attrs, "dsn").map(|a| a.value.clone()) else {
        return conn.to_string();
    };
    let Some(entry) = files.odbc.iter().find_map(|f| ini_section(f, &dsn)) else {
        return conn.to_string();
    };
    let Some(driver) = get(&entry, "driver").map(|a| a.value.clone()) else {
        return conn.to_string();
    };
    let library = files.driver_library(&driver).unwrap_or(driver);
    let Some(path) = files.locate(&library) else {
        return conn.to_string();
    };
    let mut out = vec![Attr {
        key: "Driver".into(),
        value: path,
    }];
    for a in &entry {
        let k = a.key.to_ascii_lowercase();
        if k != "driver" && k != "description" && get(&attrs, &a.key).is_none() {
            out.push(a.clone());
        }
    }
    out.extend(
        attrs
            .into_iter()
            .filter(|a| !a.key.eq_ignore_ascii_case("dsn")),
    );
    join(&out)
}

/// The `key = value` lines of `[section]` in an ini file.
fn ini_section(file: &Path, section: &str) -> Option<Vec<Attr>> {
    let text = std::fs::read_to_string(file).ok()?;
    let mut inside = false;
    let mut found = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') && line.ends_with(']') {
            inside = line[1..line.len() - 1].trim().eq_ignore_ascii_case(section);
            found |= inside;
            continue;
        }
        if inside
            && !line.starts_with([';', '#'])
            && let Some((k, v)) = line.split_once('=')
        {
            out.push(Attr {
                key: k.trim().to_string(),
                value: v.trim().to_string(),
            });
        }
    }
    found.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> IniFiles {
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::write(dir.join("lib/psqlodbcw.so"), b"").unwrap();
        std::fs::write(
            dir.join("odbcinst.ini"),
            "[PostgreSQL Unicode]\nDescription=x\nDriver=psqlodbcw.so\n\n[Gone]\nDriver=nothere.so\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("odbc.ini"),
            "[erp]\nDriver=PostgreSQL Unicode\nServername=db1\nDatabase=nav\n",
        )
        .unwrap();
        IniFiles {
            odbcinst: vec![dir.join("odbcinst.ini")],
            odbc: vec![dir.join("odbc.ini")],
            lib_dirs: vec![dir.join("lib")],
        }
    }

    #[test]
    fn a_driver_name_becomes_its_library_path() {
        let dir = tempfile::tempdir().unwrap();
        let f = files(dir.path());
        let lib = dir.path().join("lib/psqlodbcw.so");
        let got = resolve_with("Driver={PostgreSQL Unicode};Server=127.0.0.1;PWD={a;b}", &f);
        assert_eq!(
            got,
            format!("Driver={};Server=127.0.0.1;PWD={{a;b}}", lib.display())
        );
        // Unknown drivers and missing libraries are left to the driver manager's own message.
        assert_eq!(resolve_with("Driver={Gone};X=1", &f), "Driver={Gone};X=1");
    }

    #[test]
    fn a_dsn_with_a_bare_library_is_expanded() {
        let dir = tempfile::tempdir().unwrap();
        let f = files(dir.path());
        let got = resolve_with("DSN=erp;Database=other;UID=u", &f);
        let lib = dir.path().join("lib/psqlodbcw.so");
        assert_eq!(
            got,
            format!(
                "Driver={};Servername=db1;Database=other;UID=u",
                lib.display()
            )
        );
    }

    #[test]
    fn secrets_are_the_password_values() {
        assert_eq!(
            secrets("Driver=x;UID=me;PWD={s3;cret};Password=p2"),
            ["s3;cret", "p2"]
        );
    }
}
