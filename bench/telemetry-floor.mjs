// The control of the telemetry benchmarks: a minimal hand-written
// instrumentation of a unary call with the same OpenTelemetry API and SDK,
// plugged into the runtime's generic hooks (`ClientOptions.hooks`,
// `ServerOptions.hooks`) of code generated with telemetry=false. Per call
// it does what any instrumentation of gRPC with spans, metrics and context
// propagation must do:
//   client: start a CLIENT span (3 attributes) as a child of the active
//           context, inject its context into the request metadata, at the
//           end set the status-code attribute, end the span, record one
//           duration point
//   server: extract the context from the request metadata, start a SERVER
//           span under it, run the handler in `context.with(span context)`
//           (so the handler's own calls become children), at the end set the
//           status-code attribute, end the span, record one duration point.
// No peer or server address attributes, no error status logic, no message
// events, no retry events: it is a lower bound, not a usable instrumentation.
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

/** The floor's client hook and server hook, bound to the global providers when called. */
export function createFloorHooks() {
  const tracer = trace.getTracer("floor");
  const meter = metrics.getMeter("floor");
  const clientDuration = meter.createHistogram("floor.client.duration", { unit: "ms" });
  const serverDuration = meter.createHistogram("floor.server.duration", { unit: "ms" });
  const attributesOf = new WeakMap();
  const attributes = (method) => {
    let a = attributesOf.get(method);
    if (a === undefined) {
      a = { "rpc.system": "grpc", "rpc.service": method.parent.typeName, "rpc.method": method.name };
      attributesOf.set(method, a);
    }
    return a;
  };
  const end = (span, histogram, attrs, t0) => (result) => {
    span.setAttribute("rpc.grpc.status_code", result.code);
    span.end();
    histogram.record(performance.now() - t0, { ...attrs, "rpc.grpc.status_code": result.code });
  };
  const clientHook = (start) => {
    const attrs = attributes(start.method);
    const t0 = performance.now();
    const span = tracer.startSpan(`${attrs["rpc.service"]}/${attrs["rpc.method"]}`, { kind: SpanKind.CLIENT, attributes: attrs });
    propagation.inject(trace.setSpan(context.active(), span), start.metadata, setter);
    return { end: end(span, clientDuration, attrs, t0) };
  };
  const serverHook = (method, handler) => {
    const attrs = attributes(method);
    const t0 = performance.now();
    const parent = propagation.extract(context.active(), handler.requestMetadata, getter);
    const span = tracer.startSpan(`${attrs["rpc.service"]}/${attrs["rpc.method"]}`, { kind: SpanKind.SERVER, attributes: attrs }, parent);
    const ctx = trace.setSpan(parent, span);
    return { around: (fn) => context.with(ctx, fn), end: end(span, serverDuration, attrs, t0) };
  };
  return { clientHook, serverHook };
}
