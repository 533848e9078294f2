//! The keys a source kind reads: a source's own keys, and the keys of a tool on such a source
//! (`sql:`, `table:`, `operation:`). Each kind's folder declares them as plain serde structs
//! ("groups": a kind's own keys, and keys shared with other kinds in a struct of their own) and
//! reads them here, from the entry's YAML, with positions.
//!
//! Why a second reading: serde-saphyr keeps positions only outside tagged enums and
//! `#[serde(flatten)]`, a source's `kind:` may come after its other keys, and a tool's kind is
//! its source's, named in another entry or file. So the first reading of a file
//! (`model::MappingFile`) takes only what every source and every tool has; once the kind is
//! known, each of its groups reads the file again, skipping everything but the entries of one
//! section and, in each, every key the group does not declare. A key no group took is left for
//! the catalogue to name (`rest`), with the kinds it belongs to.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::rc::Rc;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, IntoDeserializer, MapAccess,
    Visitor,
};
use serde_saphyr::{Location, Spanned};

use super::load::{FileProblems, parse_problem};
use super::model::{SourceDef, ToolDef};

/// A mapping file's text and what has been read from it. Each group type is read for every
/// entry of a section (sources, tools) in one reading, and the keys of every entry in one more,
/// so a file of many entries costs a few readings, not a few per entry.
pub struct FileKeys<'a> {
    text: &'a str,
    /// For each section and group type `T`, a `GroupRead<T>`.
    groups: RefCell<HashMap<(Section, TypeId), Box<dyn Any>>>,
    /// Every key met in each entry, by section and entry name.
    keys: RefCell<HashMap<(Section, String), Vec<KeyAt>>>,
}

/// Where a reading of every entry stopped: the entry being read, and why.
type Stopped = Box<(String, serde_saphyr::Error)>;

/// One group type read for every entry of a section.
struct GroupRead<T> {
    /// Each entry's group, and every key the reading met in the entry.
    read: HashMap<String, (T, Vec<KeyAt>)>,
    /// The entry whose value stopped the reading, and why. Entries after it are read on
    /// their own (only a file with a mistake pays for that).
    failed: Option<Stopped>,
}

impl<'a> FileKeys<'a> {
    pub fn new(text: &'a str) -> Self {
        FileKeys {
            text,
            groups: RefCell::default(),
            keys: RefCell::default(),
        }
    }

    /// Remember the keys met in an entry (the first reading that met them is enough).
    fn met(&self, section: Section, name: &str, keys: Vec<KeyAt>) {
        self.keys
            .borrow_mut()
            .entry((section, name.to_string()))
            .or_insert(keys);
    }

    fn has_met(&self, section: Section, name: &str) -> bool {
        self.keys
            .borrow()
            .contains_key(&(section, name.to_string()))
    }

    /// `seed` for each entry of a section, by name; on an error, the entry being read.
    fn each_entry<S: DeserializeSeed<'a> + Copy>(
        &self,
        section: Section,
        seed: S,
    ) -> Result<HashMap<String, S::Value>, Stopped> {
        let current = RefCell::new(String::new());
        let read = serde_saphyr::with_deserializer_from_str(self.text, |de| {
            Entry {
                key: section.0,
                inner: EachEntry {
                    current: &current,
                    seed,
                },
            }
            .deserialize(de)
        });
        read.map(Option::unwrap_or_default)
            .map_err(|e| Box::new((current.into_inner(), e)))
    }
}

/// A section of a mapping file whose entries have keys that a kind reads: `sources`, `tools`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Section(pub &'static str);

/// A key of an entry, where it is written and where its value is.
#[derive(Debug, Clone)]
pub struct KeyAt {
    pub name: String,
    /// The key itself: what a misspelt key points at.
    pub key: Location,
    /// Its value: what a problem about a given value points at.
    pub value: Location,
}

/// One entry's YAML (a source, a tool), ready to be read group by group.
pub struct KindKeys<'a> {
    file: &'a FileKeys<'a>,
    section: Section,
    name: &'a str,
    /// The keys read so far: the first reading's, then each group's.
    taken: Vec<&'static str>,
}

impl<'a> KindKeys<'a> {
    /// The source `name` of the mapping file `file`.
    pub fn source(file: &'a FileKeys<'a>, name: &'a str) -> Self {
        Self::entry(file, Section("sources"), name, fields::<SourceDef>())
    }

    /// The tool `name` of the mapping file `file`.
    pub fn tool(file: &'a FileKeys<'a>, name: &'a str) -> Self {
        Self::entry(file, Section("tools"), name, fields::<ToolDef>())
    }

    fn entry(
        file: &'a FileKeys<'a>,
        section: Section,
        name: &'a str,
        first: &'static [&'static str],
    ) -> Self {
        KindKeys {
            file,
            section,
            name,
            taken: first.to_vec(),
        }
    }

    /// The entry's key path, e.g. `tools.get_item`.
    pub fn here(&self) -> String {
        format!("{}.{}", self.section.0, self.name)
    }

    /// Read the keys `T` declares. A value of the wrong shape is a positioned problem and
    /// `None`; keys `T` does not declare are skipped here and named by `rest`.
    pub fn group<T: DeserializeOwned + 'static>(&mut self, p: &mut FileProblems<'_>) -> Option<T> {
        self.taken.extend_from_slice(fields::<T>());
        let mut groups = self.file.groups.borrow_mut();
        let entry = groups
            .entry((self.section, TypeId::of::<T>()))
            .or_insert_with(|| {
                let read = match self.file.each_entry(self.section, Only::<T>(PhantomData)) {
                    Ok(read) => GroupRead { read, failed: None },
                    Err(failed) => GroupRead {
                        read: HashMap::new(),
                        failed: Some(failed),
                    },
                };
                Box::new(read)
            });
        let read = entry
            .downcast_mut::<GroupRead<T>>()
            .expect("each entry is keyed by its own type");
        if let Some((v, keys)) = read.read.remove(self.name) {
            drop(groups);
            self.file.met(self.section, self.name, keys);
            return Some(v);
        }
        if let Some(failed) = read.failed.take_if(|f| f.0 == self.name) {
            p.out
                .push(parse_problem(&p.file, &failed.1, self.file.text));
            return None;
        }
        drop(groups);
        self.read_alone(p)
    }

    /// Read `T` for this entry only: after another entry's mistake stopped the reading of the
    /// whole section.
    fn read_alone<T: DeserializeOwned>(&self, p: &mut FileProblems<'_>) -> Option<T> {
        let read = serde_saphyr::with_deserializer_from_str(self.file.text, |de| {
            Entry {
                key: self.section.0,
                inner: Entry {
                    key: self.name,
                    inner: Only::<T>(PhantomData),
                },
            }
            .deserialize(de)
            .map(Option::flatten)
        });
        match read {
            Ok(Some((v, keys))) => {
                self.file.met(self.section, self.name, keys);
                Some(v)
            }
            Ok(None) => None,
            Err(e) => {
                p.out.push(parse_problem(&p.file, &e, self.file.text));
                None
            }
        }
    }

    /// The keys of this entry that neither the first reading nor a group read so far declares.
    pub fn rest(&self) -> Vec<KeyAt> {
        // A group's reading met every key of the entry; only an entry no group read (its kind
        // unknown, or its reading stopped at it) needs a reading of its keys alone.
        if !self.file.has_met(self.section, self.name) {
            let all = self
                .file
                .each_entry(self.section, KeyNames)
                .unwrap_or_default();
            for (name, keys) in all {
                self.file.met(self.section, &name, keys);
            }
        }
        let met = self.file.keys.borrow();
        met.get(&(self.section, self.name.to_string()))
            .into_iter()
            .flatten()
            .filter(|k| !self.taken.contains(&k.name.as_str()))
            .cloned()
            .collect()
    }
}

/// The keys a group declares (its serde field names), as serde's derive tells them to a
/// deserializer.
pub fn fields<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe(Option<&'static [&'static str]>);
    impl<'de> Deserializer<'de> for &mut Probe {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("probe"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = Some(fields);
            Err(de::Error::custom("probe"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut probe = Probe(None);
    let _ = T::deserialize(&mut probe);
    probe.0.unwrap_or(&[])
}

/// A group's part of an entry's JSON Schema: its properties, each with its description.
pub fn group_properties<T: JsonSchema>(
    g: &mut SchemaGenerator,
) -> serde_json::Map<String, serde_json::Value> {
    let schema: Schema = T::json_schema(g);
    schema
        .get("properties")
        .and_then(|p| p.as_object())
        .cloned()
        .unwrap_or_default()
}

/// A kind's keys: one group, or a tuple of groups (keys shared between kinds live in a group
/// of their own, such as the SQL kinds' pool settings).
pub trait Groups: Sized {
    /// Every key the groups declare.
    fn names() -> Vec<&'static str>;
    /// Read every group; `None` when one did not parse (its problem is reported).
    fn read(keys: &mut KindKeys<'_>, p: &mut FileProblems<'_>) -> Option<Self>;
    /// The groups' JSON Schema properties, merged.
    fn properties(g: &mut SchemaGenerator) -> serde_json::Map<String, serde_json::Value>;
}

macro_rules! groups {
    ($($t:ident),+) => {
        impl<$($t: DeserializeOwned + JsonSchema + 'static),+> Groups for ($($t,)+) {
            fn names() -> Vec<&'static str> {
                [$(fields::<$t>()),+].concat()
            }
            #[allow(non_snake_case)]
            fn read(keys: &mut KindKeys<'_>, p: &mut FileProblems<'_>) -> Option<Self> {
                // Every group is read, so each reports its own problem, before any is given up.
                $(let $t = keys.group::<$t>(p);)+
                Some(($($t?,)+))
            }
            fn properties(g: &mut SchemaGenerator) -> serde_json::Map<String, serde_json::Value> {
                let mut all = serde_json::Map::new();
                $(all.extend(group_properties::<$t>(g));)+
                all
            }
        }
    };
}

groups!(A);
groups!(A, B);
groups!(A, B, C);

/// In the map of a section, `seed` for each entry, remembering which is being read.
struct EachEntry<'c, S> {
    current: &'c RefCell<String>,
    seed: S,
}

impl<'de, S: DeserializeSeed<'de> + Copy> DeserializeSeed<'de> for EachEntry<'_, S> {
    type Value = HashMap<String, S::Value>;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de, S: DeserializeSeed<'de> + Copy> Visitor<'de> for EachEntry<'_, S> {
    type Value = HashMap<String, S::Value>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map of named entries")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut all = HashMap::new();
        while let Some(name) = map.next_key::<String>()? {
            self.current.replace(name.clone());
            let v = map.next_value_seed(self.seed)?;
            all.insert(name, v);
        }
        Ok(all)
    }
}

/// In a map, reads the value of `key` with `inner` and skips the rest.
struct Entry<'k, S> {
    key: &'k str,
    inner: S,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Entry<'_, S> {
    type Value = Option<S::Value>;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Entry<'_, S> {
    type Value = Option<S::Value>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a map with `{}`", self.key)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut inner = Some(self.inner);
        let mut found = None;
        while let Some(k) = map.next_key::<String>()? {
            match inner.take_if(|_| k == self.key) {
                Some(seed) => found = Some(map.next_value_seed(seed)?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}

/// Reads a `T` from a map, offering it only the keys it declares.
struct Only<T>(PhantomData<T>);

impl<T> Clone for Only<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Only<T> {}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Only<T> {
    /// The group, and every key met in the map.
    type Value = (T, Vec<KeyAt>);
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        let met = Met::default();
        let t = T::deserialize(OnlyDeclared(de, met.clone()))?;
        Ok((t, met.take()))
    }
}

/// The keys met while reading one map.
type Met = Rc<RefCell<Vec<KeyAt>>>;

/// A deserializer that, asked for a struct, hands it only the map entries it has fields for,
/// and notes every key it meets.
struct OnlyDeclared<D>(D, Met);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for OnlyDeclared<D> {
    type Error = D::Error;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(v)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(Declared {
            fields,
            visitor,
            met: self.1,
        })
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

struct Declared<V> {
    fields: &'static [&'static str],
    visitor: V,
    met: Met,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Declared<V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        self.visitor.expecting(f)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(DeclaredMap {
            map,
            fields: self.fields,
            met: self.met,
        })
    }
}

struct DeclaredMap<A> {
    map: A,
    fields: &'static [&'static str],
    met: Met,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for DeclaredMap<A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.map.next_key::<Spanned<String>>()? {
            let at = key.referenced;
            if self.fields.contains(&key.value.as_str()) {
                // A declared key is taken: where its value is does not matter here.
                self.met.borrow_mut().push(KeyAt {
                    name: key.value.clone(),
                    key: at,
                    value: at,
                });
                let key: de::value::StringDeserializer<A::Error> = key.value.into_deserializer();
                return seed.deserialize(key).map(Some);
            }
            let value = self.map.next_value::<Spanned<IgnoredAny>>()?.referenced;
            self.met.borrow_mut().push(KeyAt {
                name: key.value,
                key: at,
                value,
            });
        }
        Ok(None)
    }
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// The keys of a map, each with its position and its value's.
#[derive(Clone, Copy)]
struct KeyNames;

impl<'de> DeserializeSeed<'de> for KeyNames {
    type Value = Vec<KeyAt>;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for KeyNames {
    type Value = Vec<KeyAt>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an entry's keys")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut keys = Vec::new();
        while let Some(k) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Spanned<IgnoredAny>>()?.referenced;
            keys.push(KeyAt {
                name: k.value,
                key: k.referenced,
                value,
            });
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::path::Path;
    use std::sync::Arc;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Net {
        #[serde(default)]
        host: Option<Spanned<String>>,
        #[serde(default)]
        port: Option<Spanned<u16>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Pool {
        #[serde(default)]
        pool_size: Option<Spanned<u32>>,
    }

    const TEXT: &str = "tools: {}\nsources:\n  other:\n    kind: flatfile\n    host: no\n  erp:\n    host: db1\n    pool_size: 4\n    kind: mssql\n    hots: typo\n    port: 1433\n";

    fn problems() -> (Arc<Path>, Vec<crate::mapping::load::Problem>) {
        (Arc::from(Path::new("m.yaml")), Vec::new())
    }

    /// Each group gets its keys with their positions, wherever `kind:` is written, and the
    /// key no group declares is left over with its own position.
    #[test]
    fn groups_read_their_keys_with_positions_and_leave_the_rest() {
        let (file, mut out) = problems();
        let mut p = FileProblems {
            file,
            out: &mut out,
        };
        let file = FileKeys::new(TEXT);
        let mut keys = KindKeys::source(&file, "erp");
        let net: Net = keys.group(&mut p).unwrap();
        let pool: Pool = keys.group(&mut p).unwrap();
        let host = net.host.unwrap();
        assert_eq!(
            (
                host.value.as_str(),
                host.referenced.line(),
                host.referenced.column()
            ),
            ("db1", 7, 11)
        );
        assert_eq!(net.port.unwrap().referenced.line(), 11);
        assert_eq!(pool.pool_size.unwrap().value, 4);
        let rest = keys.rest();
        assert_eq!(rest.len(), 1);
        let at = |l: Location| (l.line(), l.column());
        assert_eq!(
            (rest[0].name.as_str(), at(rest[0].key), at(rest[0].value)),
            ("hots", (10, 5), (10, 11))
        );
        assert!(out.is_empty());
    }

    /// A value of the wrong shape is a problem at its own line, and the group is not read.
    #[test]
    fn a_wrong_value_is_a_positioned_problem() {
        let text = TEXT.replace("port: 1433", "port: lots");
        let (file, mut out) = problems();
        let mut p = FileProblems {
            file,
            out: &mut out,
        };
        let file = FileKeys::new(&text);
        assert!(
            KindKeys::source(&file, "erp")
                .group::<Net>(&mut p)
                .is_none()
        );
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].line, out[0].path.as_str()),
            (11, "sources.erp.port")
        );
    }

    /// A mistake in one source stops the reading of the whole file at it: the sources before
    /// it keep what was read, it gets its problem, and the sources after it are read alone.
    #[test]
    fn a_mistake_in_one_source_costs_only_that_source() {
        let text =
            "sources:\n  a:\n    port: 1\n  b:\n    port: lots\n  c:\n    port: 3\n    host: h\n";
        let (file, mut out) = problems();
        let mut p = FileProblems {
            file,
            out: &mut out,
        };
        let keys = FileKeys::new(text);
        let ports: Vec<Option<u16>> = ["a", "b", "c"]
            .iter()
            .map(|n| {
                KindKeys::source(&keys, n)
                    .group::<Net>(&mut p)
                    .map(|net| net.port.unwrap().value)
            })
            .collect();
        assert_eq!(ports, [Some(1), None, Some(3)]);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].line, out[0].path.as_str()), (5, "sources.b.port"));
    }

    #[test]
    fn fields_are_the_serde_names() {
        assert_eq!(fields::<Net>(), &["host", "port"]);
    }
}
