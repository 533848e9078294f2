//! One request, in named phases, written once for every backend and every front end (MCP over
//! stdio or HTTP, and the `call` / `read` commands):
//!
//! 1. `find`      the tool (or the resource's tool); an unknown name is unroutable
//! 2. `bind`      validate and coerce arguments to typed values; nothing touches a backend before
//! 3. `cache`     tools with a `cache:` rule answer from the read cache (`cache.rs`); the
//!    misses, and every other tool, go on:
//! 4. `plan`      turn the tool's filters, order and limit plus the cursor into a `Query`
//! 5. `fetch`     the backend call, values bound (never spliced)
//! 6. `shape`     rows into the tool's JSON
//! 7. `respond`   structured result plus its text rendering, `truncated` and `next_cursor`
//! 8. `audit`     one record per call, errors included, with how the cache answered
//!
//! The other governance phases (authenticate, authorize, mask) slot in between these without
//! changing their signatures: each phase takes the `CallContext`.
//!
//! Why one file of about 750 lines: the phases of one call read top to bottom here in the order
//! they run, with the context they hand on; what they share with others lives below
//! (`outcome.rs`, `cache.rs`, `backend::kind`).

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use indexmap::IndexMap;
use serde_json::{Map, Value as Json, json};

use futures_util::FutureExt;

use crate::audit::{self, Auditor, Outcome};
use crate::auth::{Access, Principal};
use crate::backend::RowSet;
use crate::backend::kind::Call;
use crate::backend::sql;
use crate::cache::{self, ReadCache};
use crate::catalog::{Catalog, Resource, Tool};
use crate::confirm;
use crate::cursor::{Cursor, Seal};
use crate::limits::{self, Limits, RateLimiter};
use crate::mapping::mask::Profile;
use crate::mapping::model::Role;
use crate::mapping::params::{self, CURSOR_ARG};
use crate::metrics::Metrics;
use crate::uri;
use crate::value::Value;

// The answer types live below the phases that share them (cache, confirm, the front ends).
pub use crate::outcome::{CallError, ToolOutput};

/// A rendered prompt.
pub struct PromptOutput {
    pub description: Option<String>,
    pub messages: Vec<RenderedMessage>,
}

/// One prompt message: its text, and the resource read for it, if any.
pub struct RenderedMessage {
    pub role: Role,
    pub text: String,
    pub embedded: Option<EmbeddedResource>,
}

pub struct EmbeddedResource {
    pub uri: String,
    pub mime_type: String,
    pub text: String,
}

/// What one call carries from phase to phase.
struct CallContext {
    /// Where a failed backend call is counted.
    metrics: Metrics,
    tool: Arc<Tool>,
    /// Which masking policies the caller's roles lift.
    profile: Profile,
    args: Map<String, Json>,
    bound: IndexMap<String, Value>,
    offset: u64,
    /// Keyset paging: the key of the last row already returned.
    after: Option<Vec<Value>>,
    cursor_version: Option<String>,
    seal: Arc<Seal>,
}

/// A bound backend request: awaiting it sends it.
type Request = futures_util::future::BoxFuture<'static, Result<RowSet, String>>;

#[derive(Clone)]
pub struct Pipeline {
    catalog: Arc<Catalog>,
    cache: Arc<ReadCache>,
    access: Access,
    audit: Arc<Auditor>,
    limits: Limits,
    rate: Option<Arc<RateLimiter>>,
    /// Kept to build the cache of the next catalogue (a reload) the same size.
    bounds: cache::Bounds,
    metrics: Metrics,
    /// The key `next_cursor`s are sealed with.
    seal: Arc<Seal>,
    /// Redis shared with the other replicas (`[cluster]`): cache, single-flight, rate limits.
    cluster: Option<Arc<crate::cluster::Cluster>>,
}

impl Pipeline {
    /// A pipeline with the cache's default bounds.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self::with_cache(catalog, cache::Bounds::default())
    }

    pub fn with_cache(catalog: Arc<Catalog>, bounds: cache::Bounds) -> Self {
        Pipeline {
            catalog,
            cache: Arc::new(ReadCache::new(bounds)),
            access: Access::default(),
            audit: Arc::new(Auditor::disabled()),
            limits: Limits::default(),
            rate: None,
            bounds,
            metrics: Metrics::new(),
            seal: Arc::new(Seal::default()),
            cluster: None,
        }
    }

    /// Share the cache, its single-flight and the rate limits with other replicas through
    /// this cluster's Redis.
    pub fn with_cluster(mut self, cluster: Arc<crate::cluster::Cluster>) -> Self {
        cluster.start_probing();
        self.cluster = Some(cluster);
        self.cache = Arc::new(self.new_cache(&self.catalog));
        self
    }

    /// A cache for `catalog`: in front of Redis when the replica is in a cluster.
    fn new_cache(&self, catalog: &Catalog) -> ReadCache {
        let clock = self.cache.clock().clone();
        ReadCache::new(self.bounds)
            .with_clock(clock)
            .with_shared(self.cluster.as_ref().map(|c| cache::SharedCache {
                cluster: c.clone(),
                digest: catalog.digest.clone(),
            }))
    }

    /// The clock the read cache ages answers by; tests move it forward instead of sleeping.
    pub fn cache_clock(&self) -> &cache::Clock {
        self.cache.clock()
    }

    /// The cluster this replica is part of, if any (for `/readyz`).
    pub fn cluster(&self) -> Option<&Arc<crate::cluster::Cluster>> {
        self.cluster.as_ref()
    }

    /// Cursors sealed with a configured key (`cursor_key`), so every instance sharing it
    /// continues the others' cursors.
    pub fn with_cursor_key(mut self, secret: &[u8]) -> Self {
        self.seal = Arc::new(Seal::from_secret(secret));
        self
    }

    /// The same pipeline (audit, limits, rate buckets, counters) over another catalogue, with
    /// an empty cache of the same bounds: answers cached under the old mappings may have been
    /// shaped or masked differently, so none is carried over.
    pub fn with_catalog(&self, catalog: Arc<Catalog>) -> Self {
        Pipeline {
            cache: Arc::new(self.new_cache(&catalog)),
            catalog,
            ..self.clone()
        }
    }

    /// The process's counters (shared with `/metrics`, and with the pipelines of later
    /// reloads through `with_catalog`).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Apply these limits (timeout per call, rate per principal).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.rate = limits
            .rate
            .map(|(per_minute, burst)| Arc::new(RateLimiter::new(per_minute, burst)));
        self.limits = limits;
        self
    }

    /// Write an audit line per call through this auditor.
    pub fn with_audit(mut self, audit: Auditor) -> Self {
        self.audit = Arc::new(audit);
        self
    }

    /// The rate limit's refusal for this caller, if over budget: the cluster's budget while
    /// Redis answers, this replica's own bucket otherwise.
    async fn over_rate(&self, principal: &str) -> Option<String> {
        let rate = self.rate.as_ref()?;
        let (per_minute, burst) = self.limits.rate?;
        let shared = match &self.cluster {
            Some(c) => c.rate(principal, per_minute, burst).await,
            None => None,
        };
        let wait = match shared {
            Some(r) => r.err()?,
            None => rate.take(principal).err()?,
        };
        Some(rate.message(wait))
    }

    /// Decide what callers may use when an entry names no `allow:` roles.
    pub fn with_access(mut self, access: Access) -> Self {
        self.access = access;
        self
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Whether `who` may see and use an entry with these `allow:` roles.
    pub fn permits(&self, who: &Principal, allow: Option<&Vec<String>>) -> bool {
        self.access.permits(who, allow)
    }

    /// Call a tool with nobody to ask: a write with `confirm: require` is refused.
    pub async fn call_tool(
        &self,
        who: &Principal,
        name: &str,
        args: Map<String, Json>,
    ) -> Result<ToolOutput, CallError> {
        self.call_tool_asking(who, name, args, &confirm::NoAsker)
            .await
    }

    /// Run a tool through every phase; a write asks `asker` for the user's confirmation
    /// first, as the tool's `confirm` rule says.
    pub async fn call_tool_asking(
        &self,
        who: &Principal,
        name: &str,
        args: Map<String, Json>,
        asker: &dyn confirm::Asker,
    ) -> Result<ToolOutput, CallError> {
        use tracing::Instrument;
        // One span per call (exported only with `[tracing]`): the tool, never its arguments.
        let span = tracing::info_span!(
            target: crate::trace::TARGET,
            "tools/call",
            otel.name = %format_args!("tools/call {name}"),
            mcp.tool = %name,
            cache = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        if let Some(tp) = &who.trace {
            crate::trace::adopt(&span, tp);
        }
        self.call_phases(who, name, args, asker)
            .instrument(span)
            .await
    }

    /// The phases of one call, inside its span.
    async fn call_phases(
        &self,
        who: &Principal,
        name: &str,
        args: Map<String, Json>,
        asker: &dyn confirm::Asker,
    ) -> Result<ToolOutput, CallError> {
        use tracing::Instrument;
        let phase = |name: &'static str| tracing::info_span!(target: crate::trace::TARGET, "phase", otel.name = name);
        let started = Instant::now();
        let _in_flight = self.metrics.start_call();
        let tool = self.catalog.tools.get(name);
        // The audit's arguments: the caller's, and the values bound to the caller (`from:`),
        // all of them shown only as pseudonyms.
        let bound: Vec<(&str, Json)> = tool
            .map_or(&[][..], |t| &t.params[..])
            .iter()
            .filter_map(|p| Some((p.name.as_str(), p.from.as_ref()?.of(who)?)))
            .collect();
        // Copied only for the few tools with such parameters: the map is the hot path's.
        let audited = if bound.is_empty() {
            std::borrow::Cow::Borrowed(&args)
        } else {
            let mut all = args.clone();
            all.extend(bound.into_iter().map(|(k, v)| (k.to_string(), v)));
            std::borrow::Cow::Owned(all)
        };
        let record =
            |outcome: Outcome, status: cache::Status, result: &Result<ToolOutput, CallError>| {
                let label = tool.map_or(crate::metrics::UNKNOWN_TOOL, |t| t.name.as_str());
                let call = tracing::Span::current();
                call.record("outcome", outcome.name());
                call.record("cache", status.name());
                let _audit = phase("audit").entered();
                self.metrics
                    .call(label, outcome.name(), status.name(), started.elapsed());
                self.audit.write(&audit::Record {
                    principal: &who.name,
                    tool: name,
                    source: tool.map(|t| t.source.as_str()),
                    outcome,
                    duration: started.elapsed(),
                    rows: result.as_ref().ok().map(|o| {
                        o.structured
                            .get("count")
                            .and_then(|c| c.as_u64())
                            .unwrap_or(1)
                    }),
                    cache: status.name(),
                    stale: result.as_ref().is_ok_and(|o| o.notice.is_some()),
                    args: &audited,
                    error: result.as_ref().err().map(|e| match e {
                        CallError::Caller(m) | CallError::Unroutable(m) => m.as_str(),
                        CallError::Confirm { .. } => "waiting for the user's confirmation",
                    }),
                })
            };
        // Phase 1: find; a tool the caller may not use answers like a missing one (the
        // audit record tells the operator which it was).
        let refused = match tool {
            None => Some((Outcome::Rejected, unknown_tool(name))),
            Some(t) if !self.permits(who, t.allow.as_ref()) => {
                Some((Outcome::Denied, unknown_tool(name)))
            }
            Some(_) => self
                .over_rate(&who.name)
                .instrument(phase("authorize"))
                .await
                .map(|m| (Outcome::Limited, CallError::Caller(m))),
        };
        let tool = match (tool, refused) {
            (Some(t), None) => t,
            (_, refused) => {
                let (outcome, e) = refused.unwrap_or((Outcome::Rejected, unknown_tool(name)));
                let result = Err(e);
                record(outcome, cache::Status::Off, &result);
                return result;
            }
        };
        let mut ctx = CallContext {
            metrics: self.metrics.clone(),
            tool: tool.clone(),
            profile: Profile::for_roles(&self.catalog.masking, &who.roles),
            args: args.clone(),
            bound: IndexMap::new(),
            offset: 0,
            after: None,
            cursor_version: None,
            seal: self.seal.clone(),
        };
        if let Err(e) = phase("bind").in_scope(|| bind(&mut ctx, who)) {
            let result = Err(e);
            record(Outcome::ToolError, cache::Status::Off, &result);
            return result;
        }
        // Phase 2b: a write waits for the user, outside the call's time limit.
        if let Err((outcome, e)) = confirm::decide(tool, &ctx.bound, asker).await {
            let result = Err(e);
            record(outcome, cache::Status::Off, &result);
            return result;
        }
        let limit = self.limits.call_timeout;
        let mut timed_out = false;
        // Dropping the answer cancels this caller's wait; a backend call other callers share
        // (a cache flight) goes on for them.
        let cached = self.answer_cached(ctx).instrument(phase("cache"));
        let (result, status) = match tokio::time::timeout(limit, cached).await {
            Ok(answered) => answered,
            Err(_) => {
                timed_out = true;
                let e = CallError::Caller(limits::timeout_message(limit));
                (Err(e), cache::Status::Off)
            }
        };
        if result.is_ok() {
            for other in &tool.invalidates {
                self.cache.invalidate_tool(other);
            }
        }
        let outcome = match &result {
            _ if timed_out => Outcome::Limited,
            Ok(_) => Outcome::Ok,
            Err(CallError::Caller(_)) => Outcome::ToolError,
            Err(CallError::Unroutable(_)) => Outcome::Rejected,
            Err(CallError::Confirm { .. }) => Outcome::Confirming,
        };
        record(outcome, status, &result);
        result
    }

    /// Phase 3: the read cache, in front of the phases that reach the backend.
    async fn answer_cached(
        &self,
        ctx: CallContext,
    ) -> (Result<ToolOutput, CallError>, cache::Status) {
        let Some(rule) = ctx.tool.cache else {
            return (answer(ctx).await.map_err(|f| f.error), cache::Status::Off);
        };
        let key = cache_key(&ctx);
        let version = ctx.tool.plan.peek_version();
        self.cache
            .read_through(key, rule, version, move || answer(ctx).boxed())
            .await
    }

    /// Read a resource: match its URI, then call its tool with the URI's variables.
    pub async fn read_resource(
        &self,
        who: &Principal,
        uri: &str,
    ) -> Result<(&Resource, ToolOutput), CallError> {
        // A resource whose tool the caller may not use is as absent as one it may not read:
        // the refusal names nothing the caller cannot list (not the hidden tool).
        let (resource, mut args) = self
            .match_resource(uri)
            .filter(|(r, _)| {
                self.permits(who, r.allow.as_ref())
                    && self
                        .catalog
                        .tools
                        .get(&r.tool)
                        .is_some_and(|t| self.permits(who, t.allow.as_ref()))
            })
            .ok_or_else(|| CallError::Unroutable(format!("no resource matches `{uri}`")))?;
        for (k, v) in &resource.arguments {
            args.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let out = self.call_tool(who, &resource.tool, args).await?;
        Ok((resource, out))
    }

    pub fn match_resource(&self, uri: &str) -> Option<(&Resource, Map<String, Json>)> {
        self.catalog.resources.iter().find_map(|r| {
            match &r.template {
                None => (r.uri == uri).then(Map::new),
                Some(t) => t.matches(uri).map(|vars| {
                    vars.into_iter()
                        .map(|(k, v)| (k, Json::String(v)))
                        .collect()
                }),
            }
            .map(|args| (r, args))
        })
    }

    /// Render a prompt: fill placeholders, read embedded resources through the pipeline.
    pub async fn get_prompt(
        &self,
        who: &Principal,
        name: &str,
        args: &Map<String, Json>,
    ) -> Result<PromptOutput, CallError> {
        let prompt = self
            .catalog
            .prompts
            .get(name)
            .filter(|p| self.permits(who, p.allow.as_ref()))
            .ok_or_else(|| CallError::Unroutable(format!("unknown prompt `{name}`")))?;
        let text_of = |k: &str| -> Option<String> {
            args.get(k).map(|v| match v {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        for (arg, _, required) in &prompt.arguments {
            if *required && text_of(arg).is_none_or(|v| v.is_empty()) {
                return Err(CallError::Unroutable(format!(
                    "prompt `{name}` needs argument `{arg}`"
                )));
            }
        }
        let mut messages = Vec::new();
        for m in &prompt.messages {
            let text = uri::fill(&m.text, &text_of);
            let embedded = match &m.resource {
                Some(template) => {
                    let target =
                        uri::fill(template, |k| text_of(k).map(|v| uri::percent_encode(&v)));
                    let (res, out) =
                        self.read_resource(who, &target)
                            .await
                            .map_err(|e| match e {
                                CallError::Caller(m) => {
                                    CallError::Caller(format!("resource {target}: {m}"))
                                }
                                other => other,
                            })?;
                    Some(EmbeddedResource {
                        uri: target,
                        mime_type: res.mime_type.clone(),
                        text: out.text,
                    })
                }
                None => None,
            };
            messages.push(RenderedMessage {
                role: m.role,
                text,
                embedded,
            });
        }
        Ok(PromptOutput {
            description: prompt.description.clone(),
            messages,
        })
    }
}

/// The same answer for a tool that does not exist and one the caller may not use.
fn unknown_tool(name: &str) -> CallError {
    CallError::Unroutable(format!("unknown tool `{name}`"))
}

/// Phases 4 to 7: plan, fetch, shape, respond. A failed fetch is the backend's failure (a
/// cached answer may stand in for it); the other failures are the call's own.
async fn answer(ctx: CallContext) -> Result<ToolOutput, cache::Failed> {
    let own = |error| cache::Failed {
        error,
        backend: false,
    };
    use tracing::Instrument;
    let phase = |name: &'static str| tracing::info_span!(target: crate::trace::TARGET, "phase", otel.name = name, source = %ctx.tool.source);
    let request = phase("plan").in_scope(|| plan(&ctx));
    // Phase 5: fetch, the backend call.
    let mut rows = request
        .instrument(phase("fetch"))
        .await
        .map_err(CallError::Caller)
        .map_err(|error| {
            ctx.metrics.backend_error(&ctx.tool.source);
            cache::Failed {
                error,
                backend: true,
            }
        })?;
    check_cursor_version(&ctx, &rows).map_err(own)?;
    check_keys(&ctx, &rows).map_err(own)?;
    let notice = rows.notice.take();
    let version = rows.version.clone();
    let structured = phase("shape").in_scope(|| shape(&ctx, rows)).map_err(own)?;
    Ok(respond(structured, notice, version))
}

/// The cache key: the tool, the caller's masking profile (answers are cached masked, so each
/// profile has its own), its bound (typed, so `"5"` and `5` agree) values and the cursor.
/// Never the rendered request.
fn cache_key(ctx: &CallContext) -> String {
    let mut key = ctx.tool.name.clone();
    key.push_str("\0profile=");
    key.push_str(&ctx.profile.key());
    for (k, v) in &ctx.bound {
        key.push('\0');
        key.push_str(k);
        key.push('=');
        key.push_str(&v.to_json().to_string());
    }
    if let Some(c) = ctx.args.get(CURSOR_ARG).filter(|c| !c.is_null()) {
        key.push_str("\0cursor=");
        key.push_str(&c.to_string());
    }
    key
}

/// Phase 2: validate and coerce arguments; read the cursor.
fn bind(ctx: &mut CallContext, who: &Principal) -> Result<(), CallError> {
    ctx.bound = params::bind(&ctx.tool.params, &ctx.args, who).map_err(CallError::Caller)?;
    if let Some(c) = ctx.args.get(CURSOR_ARG).filter(|c| !c.is_null()) {
        if ctx.tool.shape.one {
            return Err(CallError::Caller(format!(
                "tool `{}` returns one record and takes no `cursor`",
                ctx.tool.name
            )));
        }
        let text = c.as_str().ok_or_else(|| {
            CallError::Caller(
                "argument `cursor` must be a string (the `next_cursor` of a previous result)"
                    .into(),
            )
        })?;
        let cursor = ctx.seal.open(&ctx.tool.name, text).ok_or_else(|| CallError::Caller("argument `cursor` is not a cursor this server issued; call again without it to start over".into()))?;
        if cursor.args != args_hash(&ctx.tool.name, &ctx.bound) {
            return Err(CallError::Caller("argument `cursor` belongs to a call with other arguments; pass the same arguments as the call that returned it".into()));
        }
        ctx.offset = cursor.offset;
        ctx.cursor_version = Some(cursor.version);
        if let (Some(after), Some((columns, key))) = (&cursor.after, ctx.tool.plan.keyset()) {
            let values: Option<Vec<Value>> = key
                .iter()
                .zip(after)
                .map(|(&i, j)| sql::key_value(columns[i].kind, j))
                .collect();
            ctx.after = Some(
                values
                    .filter(|v| v.len() == key.len())
                    .ok_or_else(|| CallError::Caller("argument `cursor` is not a cursor this server issued; call again without it to start over".into()))?,
            );
        }
    }
    Ok(())
}

/// Phase 4: the backend request, with every value bound from typed arguments.
fn plan(ctx: &CallContext) -> Request {
    let limit = if ctx.tool.shape.one {
        2
    } else {
        ctx.tool.limit as u64
    };
    ctx.tool.plan.request(&Call {
        params: &ctx.tool.params,
        bound: &ctx.bound,
        offset: ctx.offset,
        after: ctx.after.clone(),
        limit,
    })
}

/// A cursor continues only the version of the data it was issued on.
fn check_cursor_version(ctx: &CallContext, rows: &RowSet) -> Result<(), CallError> {
    match &ctx.cursor_version {
        Some(v) if *v != rows.version => Err(CallError::Caller("the data changed since this cursor was issued (the export was replaced); call again without `cursor` to start over".into())),
        _ => Ok(()),
    }
}

/// Keyset paging resumes after the last key with `key > ?`, which no NULL key satisfies: rows
/// with a NULL key would be lost from every later page while the last said `truncated: false`.
/// The keyset query sorts NULL keys first (`SqlQuery::render`), so such rows show up on the
/// first page, where they are refused instead of paged past.
fn check_keys(ctx: &CallContext, rows: &RowSet) -> Result<(), CallError> {
    let Some((columns, key)) = ctx.tool.plan.keyset() else {
        return Ok(());
    };
    for row in &rows.rows {
        if let Some(&i) = key.iter().find(|&&i| row[i].is_null()) {
            return Err(CallError::Caller(format!(
                "tool `{}` pages by key column `{}`, and some rows hold NULL there: paging by it would lose them. The mapping needs a key that is never NULL (or SQL that leaves such rows out); nothing was returned",
                ctx.tool.name, columns[i].name
            )));
        }
    }
    Ok(())
}

/// Phase 6: rows into JSON, one record or a page with `truncated` and `next_cursor`.
fn shape(ctx: &CallContext, rows: RowSet) -> Result<Json, CallError> {
    let tool = &ctx.tool;
    let render = |r: &Vec<Value>| {
        tool.shape
            .render(r, &ctx.profile)
            .map_err(CallError::Caller)
    };
    if tool.shape.one {
        return match rows.rows.as_slice() {
            [] => Err(CallError::Caller(not_found(ctx))),
            [row] => render(row),
            _ => Err(CallError::Caller(format!(
                "more than one record matches {}; tool `{}` is declared `one: true`, so its filters should name a unique key",
                describe_args(ctx),
                tool.name
            ))),
        };
    }
    // Rows past `max_result_size` are cut like rows past `limit`: the rest is one cursor away.
    let mut items = Vec::with_capacity(rows.rows.len());
    let mut bytes = 0u64;
    let mut truncated = rows.truncated;
    for row in &rows.rows {
        let item = render(row)?;
        bytes += serde_json::to_string(&item).map_or(0, |s| s.len() as u64 + 1);
        if bytes > tool.max_result_bytes && !items.is_empty() {
            truncated = true;
            break;
        }
        items.push(item);
    }
    let next_cursor = truncated.then(|| {
        let after = match (
            tool.plan.keyset(),
            rows.rows.get(items.len().wrapping_sub(1)),
        ) {
            (Some((_, key)), Some(last)) => Some(key.iter().map(|&i| last[i].to_json()).collect()),
            _ => None,
        };
        let cursor = Cursor {
            offset: if after.is_some() {
                0
            } else {
                ctx.offset + items.len() as u64
            },
            version: rows.version.clone(),
            args: args_hash(&tool.name, &ctx.bound),
            after,
        };
        ctx.seal.seal(&tool.name, &cursor)
    });
    Ok(json!({
        "rows": items,
        "count": items.len(),
        "truncated": truncated,
        "next_cursor": next_cursor,
    }))
}

fn not_found(ctx: &CallContext) -> String {
    format!(
        "not found: no record in {} matches {}",
        ctx.tool.subject,
        describe_args(ctx)
    )
}

fn describe_args(ctx: &CallContext) -> String {
    if ctx.bound.is_empty() {
        return "the tool's filters".into();
    }
    ctx.bound
        .iter()
        .map(|(k, v)| format!("{k} = {}", v.to_json()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Phase 7: structured content and its text rendering.
fn respond(structured: Json, notice: Option<String>, version: String) -> ToolOutput {
    let text = serde_json::to_string(&structured).unwrap_or_default();
    ToolOutput {
        structured,
        text,
        notice,
        version,
    }
}

/// A digest of the tool and its bound arguments, so a cursor is only continued by the same call.
fn args_hash(tool: &str, bound: &IndexMap<String, Value>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    tool.hash(&mut h);
    for (k, v) in bound {
        k.hash(&mut h);
        v.to_json().to_string().hash(&mut h);
    }
    h.finish()
}
