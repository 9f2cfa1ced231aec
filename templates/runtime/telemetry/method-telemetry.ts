import type { DescMethod } from "@bufbuild/protobuf";
import type { Attributes } from "@opentelemetry/api";
import { buildCallAttributes, createStatusAttributes, type Endpoint, type StatusAttributes } from "./attributes.js";
import type { SemconvMode } from "./semconv.js";

/**
 * What the telemetry of one side knows about one method, built on its first
 * call and shared by all later ones (so a call allocates no attribute object
 * for its metric points).
 */
export interface MethodTelemetry {
  readonly method: DescMethod;
  /** `pkg.Service/Method` (RPC semantic conventions, "Span name"). */
  readonly spanName: string;
  /** Any streaming kind: message events and messages-per-RPC metrics apply only to these. */
  readonly streaming: boolean;
  /** The start attributes (system, service, method, server endpoint), frozen. */
  readonly attributes: Attributes;
  /** The attributes of the final status code alone, frozen (for the span). */
  readonly statusAttributes: StatusAttributes;
  /** The start attributes plus those of the final status code, frozen (for metric points). */
  endAttributes(code: number): Attributes;
}

/** The span name of a call: `pkg.Service/Method` (RPC semantic conventions, "Span name"). */
export function spanName(method: DescMethod): string {
  return `${method.parent.typeName}/${method.name}`;
}

/**
 * A per-method cache of `MethodTelemetry` for one side in one semconv mode,
 * with the server endpoint (`server.address` / `server.port`) when known.
 */
export function createMethodTelemetryCache(
  mode: SemconvMode,
  side: "client" | "server",
  server: Endpoint | undefined,
): (method: DescMethod) => MethodTelemetry {
  const cache = new WeakMap<DescMethod, MethodTelemetry>();
  const statusAttributes = createStatusAttributes(mode, side);
  return (method) => {
    let info = cache.get(method);
    if (info === undefined) cache.set(method, (info = buildMethodTelemetry(method, mode, server, statusAttributes)));
    return info;
  };
}

function buildMethodTelemetry(
  method: DescMethod,
  mode: SemconvMode,
  server: Endpoint | undefined,
  statusAttributes: StatusAttributes,
): MethodTelemetry {
  const attributes = buildCallAttributes(method, mode, server);
  const byCode: Attributes[] = [];
  return {
    method,
    spanName: spanName(method),
    streaming: method.methodKind !== "unary",
    attributes,
    statusAttributes,
    endAttributes(code) {
      return (byCode[code] ??= Object.freeze({ ...attributes, ...statusAttributes(code) }));
    },
  };
}
