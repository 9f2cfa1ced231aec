import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Deadline and cancellation propagation: a generated server runs each
 * handler (and everything it awaits) inside the call's context; a generated
 * client started inside reads it and inherits the handler's deadline (the
 * earlier of the two wins) and its cancellation. Opt out per call with
 * `CallOptions.propagate: false`, per client with `ClientOptions.propagate: false`.
 * Same idea as grpc-go's context and grpc-java's Context, on Node's
 * AsyncLocalStorage.
 */
export interface PropagatedContext {
  /** The upstream call's deadline, ms since the Unix epoch; undefined = none. */
  readonly deadline: number | undefined;
  /** Aborts when the upstream call is cancelled or expires (reason: a GrpcError). */
  readonly signal: AbortSignal;
}

/**
 * One AsyncLocalStorage per process, on `globalThis` under a `Symbol.for`
 * key: the ESM and the CommonJS builds of this package, loaded in one
 * process, then see each other's server calls.
 */
const storageKey = Symbol.for("@grpckit/runtime.propagation.v1");
const globalScope = globalThis as { [storageKey]?: AsyncLocalStorage<PropagatedContext> };
const storage: AsyncLocalStorage<PropagatedContext> = (globalScope[storageKey] ??= new AsyncLocalStorage<PropagatedContext>());

/** Run `fn` with `context` as the propagated context of everything it starts. */
export function runWithPropagatedContext<T>(context: PropagatedContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The context of the server call being handled, if any. */
export function currentPropagatedContext(): PropagatedContext | undefined {
  return storage.getStore();
}
