import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Deadline and cancellation propagation: a generated server runs each
 * handler (and everything it awaits) inside the call's context; a generated
 * client started inside reads it and inherits the handler's deadline (the
 * earlier of the two wins) and its cancellation. Opt out per call with
 * `CallOptions.propagate: false`, per client with `ClientOptions.propagate: false`.
 * Same idea as grpc-go's context and grpc-java's Context, on Node's
 * AsyncLocalStorage.
 *
 * Cost: on Node 20 the first `AsyncLocalStorage.run` turns on async_hooks
 * promise hooks for every promise of the process. Servers therefore enter
 * the storage only once something can read it: a generated client exists
 * (with `propagate` not false), or `currentPropagatedContext()` or
 * `runWithPropagatedContext()` was called. Before that, a handler's
 * synchronous part still sees its context (so a client created and called
 * there inherits it), but what runs after its first `await` does not.
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
 * process, then see each other's server calls. The same for the switch
 * that says whether servers enter it, and for the context of the handler
 * running synchronously while it is off.
 */
const storageKey = Symbol.for("@grpckit/runtime.propagation.v1");
const stateKey = Symbol.for("@grpckit/runtime.propagation-state.v1");
interface PropagationState {
  /** Servers enter the storage (something may read it). */
  on: boolean;
  /** While `on` is false: the context of the handler running synchronously. */
  current: PropagatedContext | undefined;
}
const globalScope = globalThis as { [storageKey]?: AsyncLocalStorage<PropagatedContext>; [stateKey]?: PropagationState };
const storage: AsyncLocalStorage<PropagatedContext> = (globalScope[storageKey] ??= new AsyncLocalStorage<PropagatedContext>());
const state: PropagationState = (globalScope[stateKey] ??= { on: false, current: undefined });

/** Run `fn` with `context` as the propagated context of everything it starts. */
export function runWithPropagatedContext<T>(context: PropagatedContext, fn: () => T): T {
  state.on = true;
  return storage.run(context, fn);
}

/** The context of the server call being handled, if any. */
export function currentPropagatedContext(): PropagatedContext | undefined {
  state.on = true;
  return storage.getStore() ?? state.current;
}

/** From now on, servers enter the storage for every call (a generated client that propagates exists). @internal */
export function enablePropagation(): void {
  state.on = true;
}

/**
 * Run `fn(call, arg)` as a server handler: inside `context` (storage entered
 * only when something can read it, see above). No closure is needed.
 *
 * @internal For the server runtime.
 */
export function runInCallContext<C extends PropagatedContext, A, T>(context: C, fn: (call: C, arg: A) => T, arg: A): T {
  if (state.on) return storage.run(context, fn, context, arg);
  const outer = state.current;
  state.current = context;
  try {
    return fn(context, arg);
  } finally {
    state.current = outer;
  }
}
