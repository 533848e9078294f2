//! Reading a mapping directory: every `*.yaml` / `*.yml` file, parsed strictly, in name order.
//! A file that does not parse is reported with its position and the others are still read, so
//! `check` can show every problem at once.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_saphyr::Location;

use super::model::MappingFile;

/// One problem in the mappings, printed as `file:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: Arc<Path>,
    pub line: u64,
    pub column: u64,
    /// The key path, e.g. `tools.find_items.where.item_no`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{} (at {})", self.message, self.path)
        }
    }
}

/// Problems found in one file, with a helper to add more at a YAML position.
pub struct FileProblems<'a> {
    pub file: Arc<Path>,
    pub out: &'a mut Vec<Problem>,
}

impl FileProblems<'_> {
    pub fn at(&mut self, loc: &Location, path: impl Into<String>, message: impl Into<String>) {
        self.out.push(Problem {
            file: self.file.clone(),
            line: loc.line().max(1),
            column: loc.column().max(1),
            path: path.into(),
            message: message.into(),
        });
    }
}

/// A parsed file and where it came from.
pub struct LoadedFile {
    pub path: Arc<Path>,
    pub dir: PathBuf,
    /// The file's text: each source's kind reads its keys from it again.
    pub text: String,
    pub mapping: MappingFile,
}

/// The mapping files of a directory (or one file), in name order.
pub fn mapping_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if dir.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read mapping directory {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yaml") | Some("yml")
                )
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!(
            "no mapping files (*.yaml, *.yml) in {}",
            dir.display()
        ));
    }
    Ok(files)
}

/// Parse every file; return those that parsed and a problem for each that did not.
pub fn load_files(paths: &[PathBuf], problems: &mut Vec<Problem>) -> Vec<LoadedFile> {
    let mut loaded = Vec::new();
    for path in paths {
        let file: Arc<Path> = Arc::from(path.as_path());
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(problem_at(&file, 1, 1, format!("cannot read file: {e}")));
                continue;
            }
        };
        match parse(&text) {
            Ok(mapping) => loaded.push(LoadedFile {
                dir: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
                path: file,
                text,
                mapping,
            }),
            Err(e) => problems.push(parse_problem(&file, &e, &text)),
        }
    }
    loaded
}

/// Parse one mapping document. An empty file is an empty mapping.
pub fn parse(text: &str) -> Result<MappingFile, serde_saphyr::Error> {
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
    {
        return Ok(MappingFile::default());
    }
    serde_saphyr::from_str(text)
}

fn problem_at(file: &Arc<Path>, line: u64, column: u64, message: String) -> Problem {
    Problem {
        file: file.clone(),
        line,
        column,
        path: String::new(),
        message,
    }
}

/// Turn a serde-saphyr error into a one-line problem: its position, and its message without
/// the source snippet (the position says where; editors show the line).
pub fn parse_problem(file: &Arc<Path>, e: &serde_saphyr::Error, text: &str) -> Problem {
    let (line, column) = e
        .location()
        .map(|l| (l.line().max(1), l.column().max(1)))
        .unwrap_or((1, 1));
    let rendered = e.without_snippet().render();
    let mut problem = problem_at(file, line, column, tidy_message(&rendered));
    problem.path = key_path_at(text, line as usize);
    problem
}

/// The dotted key path of the block-style YAML key on `line` (1-based), found by walking up to
/// each less-indented `key:` line. Parse errors carry only a position; the path tells the
/// reader which tool or field it is without opening the file.
pub fn key_path_at(text: &str, line: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = line.checked_sub(1).filter(|l| *l < lines.len()) else {
        return String::new();
    };
    let mut path = Vec::new();
    let mut limit = usize::MAX;
    for l in lines[..=start].iter().rev() {
        let trimmed = l.trim_start();
        let indent = l.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') || indent >= limit {
            continue;
        }
        let item = trimmed.trim_start_matches("- ");
        if let Some((key, _)) = item.split_once(':')
            && !key.contains([' ', '{', '"', '\''])
        {
            path.push(key.to_string());
            limit = indent;
        }
        if indent == 0 {
            break;
        }
    }
    path.reverse();
    path.join(".")
}

/// serde-saphyr renders `message at line N, column M`; the position is already in front.
fn tidy_message(rendered: &str) -> String {
    let first = rendered.lines().next().unwrap_or(rendered).trim();
    let cut = first
        .rfind(" at line ")
        .map(|i| &first[..i])
        .unwrap_or(first);
    let message = cut.trim_end_matches(':').trim();
    // serde's wording for a wrong scalar type names a Rust type; say what to write instead.
    match message {
        "invalid u32" | "invalid u64" => "expected a whole number (0 or more)".to_string(),
        "invalid i64" => "expected a whole number".to_string(),
        "invalid bool" => "expected true or false".to_string(),
        other => suggest(other).unwrap_or_else(|| other.to_string()),
    }
}

/// The message for a key that is not one of `expected`, worded as for any other unknown key.
pub fn unknown_key(key: &str, expected: &[&str]) -> String {
    let message = format!(
        "unknown field `{key}`, expected one of {}",
        expected.join(", ")
    );
    suggest(&message).unwrap_or(message)
}

/// For `unknown field `descripton`, expected one of ...`, add the closest expected key.
fn suggest(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, rest) = rest.split_once('`')?;
    let expected = rest.split_once("expected one of ")?.1;
    let best = expected
        .split(", ")
        .map(|k| k.trim_matches('`'))
        .min_by_key(|k| edit_distance(unknown, k))?;
    (edit_distance(unknown, best) <= 2).then(|| format!("{message}; did you mean `{best}`?"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_path_walks_up_the_indentation() {
        let yaml =
            "tools:\n  get_item:\n    # note\n    limit: lots\n    where:\n      item_no: x\n";
        assert_eq!(key_path_at(yaml, 4), "tools.get_item.limit");
        assert_eq!(key_path_at(yaml, 6), "tools.get_item.where.item_no");
        assert_eq!(key_path_at(yaml, 1), "tools");
    }
}
