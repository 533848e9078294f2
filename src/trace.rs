//! OpenTelemetry traces (`[tracing] otlp_endpoint`): a span per tool call with a child per
//! phase (authorize, bind, cache, fetch, shape, audit), exported over OTLP/HTTP (JSON) in
//! batches. The caller's W3C `traceparent` (an HTTP header, or `_meta.traceparent` in the MCP
//! request) becomes the call's parent, and the call's context is passed on to SOAP backends in
//! their own `traceparent` header.
//!
//! Spans carry names, the tool and source, the outcome and cache status: never argument
//! values or answers (the audit's rule: pseudonyms at most, and here not even those).

use std::collections::HashMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;

use crate::principal::Principal;
use crate::settings::TracingSettings;

/// The target of the spans exported: nothing else reaches the exporter.
pub const TARGET: &str = "legacy_mcp::span";

static ENABLED: AtomicBool = AtomicBool::new(false);
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Whether spans are exported (callers skip work that only feeds them).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The exporting layer, when the settings name an endpoint.
pub fn layer<S>(t: &TracingSettings) -> Result<Option<Box<dyn Layer<S> + Send + Sync>>, String>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + Send + Sync,
{
    let Some(endpoint) = &t.otlp_endpoint else {
        return Ok(None);
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .with_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| format!("settings tracing.otlp_endpoint: {e}"))?;
    let batch = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_scheduled_delay(Duration::from_millis(500))
                .build(),
        )
        .build();
    let ratio = t.sampling.unwrap_or(1.0).clamp(0.0, 1.0);
    let provider = SdkTracerProvider::builder()
        .with_span_processor(batch)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            ratio,
        ))))
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(
                    t.service_name
                        .clone()
                        .unwrap_or_else(|| "legacy-mcp".into()),
                )
                .build(),
        )
        .build();
    let tracer = provider.tracer("legacy-mcp");
    let _ = PROVIDER.set(provider);
    ENABLED.store(true, Ordering::Relaxed);
    let only_ours = Targets::new().with_target(TARGET, tracing::Level::INFO);
    Ok(Some(Box::new(
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(only_ours),
    )))
}

/// Send what is still batched (at shutdown).
pub fn flush() {
    if let Some(p) = PROVIDER.get() {
        let _ = p.force_flush();
    }
}

/// Make the caller's `traceparent` the parent of `span` (an invalid one is ignored: the span
/// starts a trace of its own).
pub fn adopt(span: &tracing::Span, traceparent: &str) {
    let carrier = HashMap::from([("traceparent".to_string(), traceparent.to_string())]);
    let cx = TraceContextPropagator::new().extract(&carrier);
    let _ = span.set_parent(cx);
}

/// The current span's context as a `traceparent` value, for a backend request.
pub fn current_traceparent() -> Option<String> {
    if !enabled() {
        return None;
    }
    let cx = tracing::Span::current().context();
    let mut carrier: HashMap<String, String> = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.remove("traceparent")
}

/// The same caller, within the trace its request names (when traces are exported).
pub fn traced(who: &Principal, traceparent: Option<&str>) -> Option<Principal> {
    let tp = traceparent.filter(|_| enabled())?;
    let mut who = who.clone();
    who.trace = Some(tp.to_string());
    Some(who)
}
