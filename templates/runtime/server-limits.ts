import type { DescMethod } from "@bufbuild/protobuf";
import type { Server, UntypedHandleCall } from "@grpc/grpc-js";
import { methodPath } from "./definition.js";
import { pushbackError } from "./error-details.js";
import { GrpcError, Status, type StatusObject } from "./grpc-error.js";

/**
 * Load shedding and deadline caps of a generated server (issue 10, "Limits
 * and load shedding"). Options of `addServiceImplementation` /
 * `add<Service>()`; all off by default, and then cost nothing per call.
 */
export interface ServerLimitOptions {
  /**
   * Calls served at once by this server, counted over every service
   * registered with a limit option on the same grpc-js Server (pass the same
   * value to each `add<Service>()`). A call over the limit is answered at
   * once, before authentication, validation and the handler, with
   * RESOURCE_EXHAUSTED "server overloaded", a `grpc-retry-pushback-ms`
   * trailer of `overloadPushbackMs` and a `google.rpc.RetryInfo` detail: it
   * is not queued. A call holds its slot until its handler has returned (or
   * thrown) and its status was sent: on success, error, cancellation and
   * deadline alike; a handler that ignores its `signal` keeps its slot until
   * it returns. Default: no limit.
   */
  readonly maxConcurrentCalls?: number;
  /**
   * The same per method: one number for every method of the service, or a
   * map from method name (the proto name, e.g. `"Echo"`) to its limit;
   * methods not in the map have none. Default: no limit.
   */
  readonly maxConcurrentCallsPerMethod?: number | Readonly<Record<string, number>>;
  /** Milliseconds a client refused by a concurrency limit is asked to wait (`grpc-retry-pushback-ms`, gRFC A6). Default 100. */
  readonly overloadPushbackMs?: number;
  /**
   * The longest deadline a client may ask for, in milliseconds: a call whose
   * `grpc-timeout` is longer is answered INVALID_ARGUMENT before the handler
   * runs (as connect-es's `maxTimeoutMs`). Calls without a deadline are
   * accepted. Default: no cap.
   */
  readonly maxTimeoutMs?: number;
}

/** The default `overloadPushbackMs`. */
export const defaultOverloadPushbackMs = 100;

/** Calls in flight on one server, over the services registered with a limit option. */
interface Load {
  total: number;
  readonly byMethod: Map<string, number>;
}

const loadKey = Symbol.for("@grpckit/runtime.server-load.v1");
const globalScope = globalThis as { [loadKey]?: WeakMap<Server, Load> };
const loads: WeakMap<Server, Load> = (globalScope[loadKey] ??= new WeakMap<Server, Load>());

function loadOf(server: Server): Load {
  let load = loads.get(server);
  if (load === undefined) loads.set(server, (load = { total: 0, byMethod: new Map() }));
  return load;
}

/**
 * Calls being served on `server` by services registered with a limit option:
 * `total`, and by method path (`/pkg.Service/Method`). For metrics and tests.
 */
export function concurrentCalls(server: Server): { readonly total: number; readonly byMethod: ReadonlyMap<string, number> } {
  const load = loads.get(server);
  return { total: load?.total ?? 0, byMethod: new Map(load?.byMethod ?? []) };
}

/** Admission of one method's calls: `guard` wraps its handler, `release` frees a slot (once per admitted call). */
export interface MethodLimits {
  guard(handler: UntypedHandleCall): UntypedHandleCall;
  readonly release: (() => void) | undefined;
}

/**
 * The limits of `method` from `options`, or undefined when none applies (the
 * handler is then used as is).
 *
 * @throws RangeError if a limit is not a positive integer, or `overloadPushbackMs` / `maxTimeoutMs` is not an integer >= 0.
 */
export function methodLimits(server: Server, method: DescMethod, options: ServerLimitOptions): MethodLimits | undefined {
  const total = checked("maxConcurrentCalls", options.maxConcurrentCalls, 1);
  const perMethod = options.maxConcurrentCallsPerMethod;
  const own = checked(`maxConcurrentCallsPerMethod[${method.name}]`, typeof perMethod === "number" ? perMethod : perMethod?.[method.name], 1);
  const maxTimeoutMs = checked("maxTimeoutMs", options.maxTimeoutMs, 0);
  const pushbackMs = checked("overloadPushbackMs", options.overloadPushbackMs, 0) ?? defaultOverloadPushbackMs;
  const counted = total !== undefined || own !== undefined;
  if (!counted && maxTimeoutMs === undefined) return undefined;
  const path = methodPath(method);
  const load = loadOf(server);
  const release = () => {
    load.total--;
    load.byMethod.set(path, (load.byMethod.get(path) ?? 1) - 1);
  };
  const admit = (call: { getDeadline(): Date | number }): StatusObject | undefined => {
    if (maxTimeoutMs !== undefined) {
      const refused = timeoutRefusal(call.getDeadline(), maxTimeoutMs);
      if (refused !== undefined) return refused;
    }
    if (!counted) return undefined;
    const active = load.byMethod.get(path) ?? 0;
    if ((total !== undefined && load.total >= total) || (own !== undefined && active >= own)) {
      return pushbackError(Status.RESOURCE_EXHAUSTED, "server overloaded", { retryAfterMs: pushbackMs }).toStatusObject();
    }
    load.total++;
    load.byMethod.set(path, active + 1);
    return undefined;
  };
  return {
    release: counted ? release : undefined,
    guard: (handler) =>
      ((call: { getDeadline(): Date | number; emit(event: "error", status: unknown): unknown }, callback?: (status: unknown) => void) => {
        const refused = admit(call);
        if (refused === undefined) return (handler as (c: unknown, cb?: unknown) => void)(call, callback);
        const status = { ...refused, message: refused.details };
        if (callback !== undefined) callback(status);
        else call.emit("error", status);
      }) as UntypedHandleCall,
  };
}

/** INVALID_ARGUMENT when the call's deadline is more than `maxTimeoutMs` away. */
function timeoutRefusal(deadline: Date | number, maxTimeoutMs: number): StatusObject | undefined {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at) || at - Date.now() <= maxTimeoutMs) return undefined;
  return new GrpcError(Status.INVALID_ARGUMENT, `the call's timeout exceeds the server's maximum of ${maxTimeoutMs} ms`).toStatusObject();
}

function checked(name: string, value: number | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

/**
 * The server's `grpc.max_send_message_length`: the largest serialized
 * response in bytes, or -1 for no limit (grpc-js' default). Read from the
 * grpc-js Server's constructor options (not public API: -1 when they cannot
 * be read, and grpc-js then enforces the limit on its own, unseen by the hooks).
 *
 * @internal For the server runtime.
 */
export function maxSendMessageBytes(server: Server): number {
  const options = (server as unknown as { options?: Record<string, unknown> }).options;
  const max = options?.["grpc.max_send_message_length"];
  return typeof max === "number" && max >= 0 ? max : -1;
}
