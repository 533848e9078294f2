//! The mapping format v1: what integrators write.
//!
//! - `field_type`   the type of a field or parameter value
//! - `model`        serde types of one file (strict; positions via `Spanned`)
//! - `shorthand`    the short/long forms of filters, order keys and output fields
//! - `units`        durations and sizes (`30s`, `10MB`)
//! - `interpolate`  `${env:NAME}` and `${file:PATH}`
//! - `load`         reading a directory; problems as `file:line:col: message`
//! - `mask`         masking policies (`masking:`) and the caller's masking profile
//! - `params`       tool parameters: validation, coercion, input schema
//! - `shape`        result shaping and output schema
//! - `kind_keys`  a source's own keys, read again by its kind once `kind:` is known
//! - `schema`       the JSON Schema of the mapping format itself

pub mod field_type;
pub mod interpolate;
pub mod kind_keys;
pub mod load;
pub mod mask;
pub mod model;
pub mod params;
pub mod schema;
pub mod shape;
pub mod shorthand;
pub mod units;
