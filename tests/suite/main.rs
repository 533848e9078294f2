//! The integration tests, one binary: each file is a module (named as the area it tests), all
//! of them share `support` (the real binary over stdio or HTTP, the SOAP fixture, the TDS test
//! double, the third-party client peers). One binary links the crate once instead of 24 times.
//!
//! Run one area with its module name as the filter: `cargo test --test suite soap::`.

mod support;

mod auth;
mod cache;
mod check;
mod cli;
mod cluster;
mod codepages;
mod conformance;
mod flatfile;
mod front_door;
mod house;
mod legacy_formats;
mod limits;
mod masking;
mod mcp_http;
mod mcp_stdio;
mod multi_record;
mod ops;
mod python_peer;
mod soap;
mod sql_mssql;
mod sql_odbc;
mod stdio_guard;
mod trust;
mod ts_peer;
mod watch;
mod windows;
