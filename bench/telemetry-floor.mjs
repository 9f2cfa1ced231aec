// The control of the telemetry benchmarks: a minimal hand-written
// instrumentation of a unary call with the same OpenTelemetry API and SDK,
// plugged into the runtime's generic hooks (`ClientOptions.hooks`,
// `ServerOptions.hooks`) of code generated with telemetry=false. Per call
// it does what any instrumentation of gRPC with spans, metrics and context
// propagation must do:
//   client: start a CLIENT span as a child of the active context, inject its
//           context into the request metadata, at the end set the
//           status-code attribute, end the span, record one duration point
//   server: extract the context from the request metadata, start a SERVER
//           span under it, run the handler in `context.with(span context)`
//           (so the handler's own calls become children), at the end set the
//           status-code attribute, end the span, record one duration point.
// It records the same spans, attributes and metric points as the generated
// wiring does for a successful unary call with the default (old) semantic
// conventions: span attributes rpc.system, rpc.service, rpc.method plus
// server.address / server.port (client) or network.peer.address /
// network.peer.port (server), then rpc.grpc.status_code; duration points
// with the span's start attributes (minus the peer) and the status code.
// No error status logic, no message events, no retry events, no metadata
// options, no check of the registered providers: a lower bound, not a usable
// instrumentation.
import { SpanKind, context, metrics, propagation, trace } from "@opentelemetry/api";
import { performance } from "node:perf_hooks";

const setter = { set: (md, key, value) => md.set(key, value) };
const getter = {
  keys: (md) => Object.keys(md.getMap()),
  get: (md, key) => {
    const v = md.get(key);
    return v.length === 0 ? undefined : String(v[0]);
  },
};

/**
 * The floor's client hook and server hook, with the global providers of the
 * moment. `target` is the `host:port` the client connects to. `parts` turns
 * pieces off, to split the cost: `{ spans: false }` (no spans, only the
 * context propagated through metadata and `context.with`), `{ metrics: false }`
 * (no duration points).
 */
export function createFloorHooks(target, parts = {}) {
  const { spans = true, metrics: withMetrics = true } = parts;
  const colon = target.lastIndexOf(":");
  const serverEndpoint = { "server.address": target.slice(0, colon), "server.port": Number(target.slice(colon + 1)) };
  const tracer = trace.getTracer("floor");
  const meter = metrics.getMeter("floor");
  const clientDuration = meter.createHistogram("floor.client.duration", { unit: "ms" });
  const serverDuration = meter.createHistogram("floor.server.duration", { unit: "ms" });
  // Per method, built once: span name, span attributes, duration-point attributes of status OK.
  const perMethod = new WeakMap();
  const methodInfo = (method) => {
    let m = perMethod.get(method);
    if (m === undefined) {
      const rpc = { "rpc.system": "grpc", "rpc.service": method.parent.typeName, "rpc.method": method.name };
      const client = { ...rpc, ...serverEndpoint };
      m = {
        name: `${method.parent.typeName}/${method.name}`,
        rpc,
        client,
        clientOk: { ...client, "rpc.grpc.status_code": 0 },
        serverOk: { ...rpc, "rpc.grpc.status_code": 0 },
      };
      perMethod.set(method, m);
    }
    return m;
  };
  const end = (span, histogram, attrs, ok, t0) => (result) => {
    if (span !== undefined) {
      span.setAttribute("rpc.grpc.status_code", result.code);
      span.end();
    }
    if (withMetrics) histogram.record(performance.now() - t0, result.code === 0 ? ok : { ...attrs, "rpc.grpc.status_code": result.code });
  };
  const clientHook = (start) => {
    const m = methodInfo(start.method);
    const t0 = performance.now();
    const span = spans ? tracer.startSpan(m.name, { kind: SpanKind.CLIENT, attributes: m.client }) : undefined;
    propagation.inject(span ? trace.setSpan(context.active(), span) : context.active(), start.metadata, setter);
    return { end: end(span, clientDuration, m.client, m.clientOk, t0) };
  };
  const serverHook = (method, handler) => {
    const m = methodInfo(method);
    const t0 = performance.now();
    const parent = propagation.extract(context.active(), handler.requestMetadata, getter);
    const colon = handler.peer.lastIndexOf(":");
    const attributes = { ...m.rpc, "network.peer.address": handler.peer.slice(0, colon), "network.peer.port": Number(handler.peer.slice(colon + 1)) };
    const span = spans ? tracer.startSpan(m.name, { kind: SpanKind.SERVER, attributes }, parent) : undefined;
    const ctx = span ? trace.setSpan(parent, span) : parent;
    return { around: (fn) => context.with(ctx, fn), end: end(span, serverDuration, m.rpc, m.serverOk, t0) };
  };
  return { clientHook, serverHook };
}
