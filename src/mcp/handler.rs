//! The rmcp `ServerHandler`: lists built once from the catalogue (cursor-paginated), tool calls,
//! resource reads and prompts through the pipeline, `logging/setLevel`, `ping`.
//!
//! rmcp's model types are `#[non_exhaustive]`; they are built from JSON here, which also keeps
//! the wire shape visible in the code.
//!
//! MCP logging is deprecated by SEP-2577 for future protocol versions, but the versions served
//! here (2025-06-18, 2025-11-25) still define it, so it is implemented; hence the allow below.
#![allow(deprecated)]

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use base64::Engine;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ErrorData, GetPromptRequestParams,
    GetPromptResponse, GetPromptResult, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ProtocolVersion,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, ServerConfig,
    SetLevelRequestParams, SubscribeRequestParams, SubscriptionFilter, UnsubscribeRequestParams,
};
use rmcp::service::{RequestContext, SubscriptionContext};
use rmcp::{RoleServer, ServerHandler};
use serde_json::{Value as Json, json};

use super::elicit::{ClientAsker, input_required};
use super::live::Live;
use super::render::{
    LEVELS, Listed, Lists, NOTICE_META, WARNING, complete, from_json, log, tool_error, tool_result,
};
use super::state::State;
use super::watch::Notifier;
use crate::auth::Principal;
use crate::mapping::model::Role;
use crate::pipeline::{CallError, Pipeline};

/// Items per page of every list unless the operator says otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// The protocol versions this server implements.
pub const PROTOCOL_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_11_25,
    ProtocolVersion::V_2026_07_28,
];

#[derive(Clone)]
pub struct Server {
    /// The mappings being served; a reload swaps them under running sessions.
    live: Arc<Live>,
    page_size: usize,
    /// The client's `logging/setLevel`, as an index into `LEVELS`; per session.
    log_level: Arc<AtomicU8>,
    /// The caller when the transport names none (stdio; HTTP without authentication).
    principal: Arc<Principal>,
}

impl Server {
    pub fn new(pipeline: Pipeline, page_size: usize) -> Self {
        Server {
            live: Arc::new(Live::new(pipeline)),
            page_size: page_size.max(1),
            log_level: Arc::new(AtomicU8::new(3)),
            principal: Arc::new(Principal::local()),
        }
    }

    /// A handler for a new session: same catalogue, its own log level.
    pub fn for_session(&self) -> Self {
        Server {
            log_level: Arc::new(AtomicU8::new(3)),
            ..self.clone()
        }
    }

    /// The swappable catalogue, for the reloader and the health endpoints.
    pub fn live(&self) -> Arc<Live> {
        self.live.clone()
    }

    /// Serve callers the transport does not identify as this principal.
    pub fn with_principal(mut self, who: Principal) -> Self {
        self.principal = Arc::new(who);
        self
    }

    /// One page of the entries of a list `who` may see.
    fn visible_page(
        &self,
        state: &State,
        list: impl Fn(&Lists) -> &[Listed],
        key: &str,
        who: &Principal,
        request: Option<PaginatedRequestParams>,
    ) -> Result<Json, ErrorData> {
        let visible: Vec<&Json> = list(&state.lists)
            .iter()
            .filter(|l| {
                l.allow
                    .iter()
                    .all(|a| state.pipeline.permits(who, a.as_ref()))
            })
            .map(|l| &l.json)
            .collect();
        page(&visible, key, request, self.page_size).map(complete)
    }

    /// The caller of one request: what the HTTP layer authenticated, else the default.
    fn caller(&self, ctx: &RequestContext<RoleServer>) -> Principal {
        let parts = ctx.extensions.get::<axum::http::request::Parts>();
        let who = parts
            .and_then(|parts| parts.extensions.get::<Principal>())
            .unwrap_or(&self.principal);
        // The trace the request belongs to: its `_meta.traceparent`, else the HTTP header.
        let traceparent = ctx
            .meta
            .get("traceparent")
            .and_then(|v| v.as_str())
            .or_else(|| parts?.headers.get("traceparent")?.to_str().ok());
        crate::trace::traced(who, traceparent).unwrap_or_else(|| who.clone())
    }

    /// The lowest log level this request's client wants. A 2025 session sets it once with
    /// `logging/setLevel`; a 2026-07-28 request opts in itself with
    /// `io.modelcontextprotocol/logLevel` in its `_meta`, and without it gets no log
    /// notification at all (SEP-2575: the server MUST NOT send one).
    fn log_threshold(&self, ctx: &RequestContext<RoleServer>) -> Option<usize> {
        let modern = ctx
            .protocol_version()
            .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str());
        if !modern {
            return Some(self.log_level.load(Ordering::Relaxed) as usize);
        }
        let name = serde_json::to_value(ctx.meta.log_level()?).ok()?;
        LEVELS.iter().position(|l| Some(*l) == name.as_str())
    }

    /// The caller when the transport names none.
    pub fn default_principal(&self) -> &Principal {
        &self.principal
    }
}

/// The session a request belongs to: its HTTP session id, or stdio's one session.
fn session_id(extensions: &rmcp::model::Extensions) -> &str {
    extensions
        .get::<axum::http::request::Parts>()
        .and_then(|p| p.headers.get(super::live::SESSION_HEADER))
        .and_then(|v| v.to_str().ok())
        .unwrap_or(super::live::STDIO)
}

/// One page of `items` as `{key: [...], nextCursor}`. Cursors are opaque base64 offsets.
fn page(
    items: &[&Json],
    key: &str,
    request: Option<PaginatedRequestParams>,
    size: usize,
) -> Result<Json, ErrorData> {
    let start = match request.and_then(|r| r.cursor) {
        None => 0,
        Some(c) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.strip_prefix("list:")
                    .and_then(|n| n.parse::<usize>().ok())
            })
            .filter(|n| *n <= items.len())
            .ok_or_else(|| {
                ErrorData::invalid_params(
                    format!("invalid cursor `{c}`: pass the nextCursor of a previous list result"),
                    None,
                )
            })?,
    };
    let end = (start + size).min(items.len());
    let mut out = json!({ key: &items[start..end] });
    if end < items.len() {
        out["nextCursor"] =
            json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("list:{end}")));
    }
    Ok(out)
}

/// Resource reads and prompts have no `isError` result: both kinds become invalid-params errors.
fn to_error_data(e: CallError) -> ErrorData {
    ErrorData::invalid_params(e.to_string(), None)
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        let state = self.live.current();
        // `subscribe` only when some resource can be watched (`watch.rs`).
        let watched = state
            .pipeline
            .catalog()
            .resources
            .iter()
            .any(|r| r.watch.is_some());
        let mut info: ServerConfig = serde_json::from_value(json!({
            "protocolVersion": ProtocolVersion::V_2025_11_25,
            "capabilities": {"tools": {"listChanged": true}, "resources": {"listChanged": true, "subscribe": watched}, "prompts": {"listChanged": true}, "logging": {}},
            "serverInfo": {"name": "legacy-mcp", "version": env!("CARGO_PKG_VERSION")},
            "instructions": state.instructions,
        }))
        .expect("static server info is valid");
        info.protocol_version = ProtocolVersion::V_2025_11_25;
        info
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(PROTOCOL_VERSIONS)
    }

    /// A session is ready: remember it, to tell it when the lists change.
    async fn on_initialized(&self, ctx: rmcp::service::NotificationContext<RoleServer>) {
        let id = session_id(&ctx.extensions);
        self.live
            .register(id, ctx.peer.clone(), self.log_level.clone());
    }

    /// What a `subscriptions/listen` stream is granted: every list change, and updates of the
    /// resources that can be watched, up to the per-client bound. Whether the caller may read
    /// each one is decided in `listen`, which knows the caller.
    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        let state = self.live.current();
        let uris: Vec<String> = requested
            .resource_subscriptions
            .iter()
            .flatten()
            .filter(|uri| {
                state
                    .pipeline
                    .match_resource(uri)
                    .is_some_and(|(r, _)| r.watch.is_some())
            })
            .take(super::watch::PER_CLIENT)
            .cloned()
            .collect();
        for uri in &uris {
            self.live.watches().look_at_grant(&state, uri);
        }
        let mut accepted = SubscriptionFilter::builder()
            .tools_list_changed()
            .prompts_list_changed()
            .resources_list_changed();
        if !uris.is_empty() {
            accepted = accepted.resource_subscriptions(uris);
        }
        Some(accepted.build())
    }

    /// One `subscriptions/listen` stream (2026-07-28), until the client cancels it or the
    /// connection ends: list changes after a reload, and updates of its resources.
    async fn listen(&self, sub: SubscriptionContext) -> Result<(), ErrorData> {
        static STREAMS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let id = format!(
            "listen:{}",
            STREAMS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let who = self.caller(sub.request_context());
        let sink = sub.sink().clone();
        self.live.listen(&id, sink.clone());
        for uri in sub.accepted().resource_subscriptions.iter().flatten() {
            let notify = Notifier::Sink(sink.clone());
            let subscribed = self
                .live
                .watches()
                .subscribe(&self.live, &who, &id, uri, notify);
            // The URI carries argument values (a customer number) and the reason quotes it:
            // neither goes to the log. The listener learns of it by its acknowledgement.
            if subscribed.await.is_err() {
                tracing::info!("a resource subscription of a listen stream was refused");
            }
        }
        sub.cancelled().await;
        self.live.unlisten(&id);
        Ok(())
    }

    /// `resources/subscribe` of a 2025 session.
    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let who = self.caller(&ctx);
        let client = session_id(&ctx.extensions);
        let notify = Notifier::Peer(ctx.peer.clone());
        self.live
            .watches()
            .subscribe(&self.live, &who, client, &request.uri, notify)
            .await
            .map_err(|why| ErrorData::invalid_params(why, Some(json!({"uri": request.uri}))))
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let client = session_id(&ctx.extensions);
        self.live.watches().unsubscribe(client, &request.uri);
        Ok(())
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let name = serde_json::to_value(request.level)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let idx = LEVELS.iter().position(|l| *l == name).unwrap_or(3);
        self.log_level.store(idx as u8, Ordering::Relaxed);
        Ok(())
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let who = self.caller(&ctx);
        from_json(self.visible_page(&self.live.current(), |l| &l.tools, "tools", &who, request)?)
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let who = self.caller(&ctx);
        from_json(self.visible_page(
            &self.live.current(),
            |l| &l.resources,
            "resources",
            &who,
            request,
        )?)
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let who = self.caller(&ctx);
        from_json(self.visible_page(
            &self.live.current(),
            |l| &l.templates,
            "resourceTemplates",
            &who,
            request,
        )?)
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let who = self.caller(&ctx);
        from_json(self.visible_page(
            &self.live.current(),
            |l| &l.prompts,
            "prompts",
            &who,
            request,
        )?)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let asker = ClientAsker::new(&ctx, &request);
        let args = request.arguments.unwrap_or_default();
        let who = self.caller(&ctx);
        let result = match self
            .live
            .current()
            .pipeline
            .call_tool_asking(&who, &request.name, args, &asker)
            .await
        {
            Ok(out) => tool_result(out),
            Err(CallError::Caller(message)) => {
                let data = json!({"tool": request.name, "error": message});
                log(&ctx.peer, self.log_threshold(&ctx), WARNING, data).await;
                tool_error(&message)
            }
            Err(CallError::Unroutable(message)) => {
                return Err(ErrorData::invalid_params(message, None));
            }
            Err(CallError::Confirm { question, state }) => {
                return Ok(CallToolResponse::InputRequired(input_required(
                    &question, &state,
                )?));
            }
        };
        Ok(CallToolResponse::Complete(from_json::<CallToolResult>(
            complete(result),
        )?))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let who = self.caller(&ctx);
        let state = self.live.current();
        let (resource, out) = state
            .pipeline
            .read_resource(&who, &request.uri)
            .await
            .map_err(|e| match e {
                CallError::Unroutable(m) => {
                    ErrorData::resource_not_found(m, Some(json!({"uri": request.uri})))
                }
                other => to_error_data(other),
            })?;
        let mut result = json!({"contents": [{"uri": request.uri, "mimeType": resource.mime_type, "text": out.text}]});
        if let Some(notice) = out.notice {
            result["_meta"] = json!({ NOTICE_META: notice });
        }
        Ok(ReadResourceResponse::Complete(from_json::<
            ReadResourceResult,
        >(complete(result))?))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        let who = self.caller(&ctx);
        let out = self
            .live
            .current()
            .pipeline
            .get_prompt(&who, &request.name, &args)
            .await
            .map_err(to_error_data)?;
        let mut messages = Vec::new();
        for m in out.messages {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            messages.push(json!({"role": role, "content": {"type": "text", "text": m.text}}));
            if let Some(e) = m.embedded {
                let resource = json!({"uri": e.uri, "mimeType": e.mime_type, "text": e.text});
                messages.push(
                    json!({"role": role, "content": {"type": "resource", "resource": resource}}),
                );
            }
        }
        let mut result = json!({"messages": messages});
        if let Some(d) = out.description {
            result["description"] = json!(d);
        }
        Ok(GetPromptResponse::Complete(from_json::<GetPromptResult>(
            complete(result),
        )?))
    }
}
