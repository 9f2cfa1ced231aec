import type { DescMethod } from "@bufbuild/protobuf";
import type { Metadata } from "@grpc/grpc-js";
import type { Status } from "./grpc-error.js";
import type { HandlerContext } from "./server-context.js";

/**
 * Extension points of the runtime. Validation, telemetry and deadline
 * propagation are hooks; users can add their own. A hook is called once per
 * call and returns the per-call callbacks it wants (or undefined).
 *
 * Order: hooks run in the order given, the first is the outermost: its
 * `around` wraps the others', its `request` / `response` callbacks run first,
 * its `end` runs last.
 */

/** How a call ended. */
export interface CallResult {
  /** The status code sent (server) or received (client); OK on success. */
  readonly code: Status;
  /** The status message (`grpc-message`). */
  readonly message: string;
  /** What the handler threw (server) or the GrpcError the call failed with (client). */
  readonly error?: unknown;
  /** Client: the peer (`host:port`, grpc-js `getPeer()`) of the attempt the call ended with, when known. */
  readonly peer?: string;
}

/** Per-call callbacks of a server hook. All optional. */
export interface ServerCallHooks {
  /** Run the handler (and everything it awaits) inside this function, e.g. to set an async context. Must return `fn()`. */
  around?<T>(fn: () => T): T;
  /** Each request message, before the handler sees it. Throw a GrpcError to fail the call with that status. */
  request?(message: unknown): void;
  /** Each response message, before it is sent. */
  response?(message: unknown): void;
  /**
   * The call ended (status sent, or cancelled / expired). Called once. A hook
   * that throws here changes nothing for the client (its status is sent
   * anyway) nor for the other hooks (they still end); the error goes to
   * `onInternalError`.
   */
  end?(result: CallResult): void;
}

/** A server hook: called when a call starts, before the handler. */
export type ServerHook = (method: DescMethod, context: HandlerContext) => ServerCallHooks | undefined;

/** What a client hook sees (and may change) before a call starts. */
export interface ClientCallStart {
  readonly method: DescMethod;
  /** Request metadata about to be sent; hooks may add entries (e.g. trace context). */
  readonly metadata: Metadata;
  /** The absolute deadline in milliseconds since the Unix epoch, `Infinity` for none. Hooks may lower it. */
  deadline: number;
  /** Extra signals that cancel the call (e.g. an inherited cancellation); hooks may push. */
  readonly signals: AbortSignal[];
}

/** Per-call callbacks of a client hook. All optional. */
export interface ClientCallHooks {
  /** Each request message before it is sent. Throw a GrpcError to fail the call locally with it. */
  request?(message: unknown): void;
  /** Each response message, before the caller sees it: as it arrives (streams: before the call ends, however slowly the caller reads). Throw to fail the call locally with that error. */
  response?(message: unknown): void;
  /** The response headers. */
  header?(header: Metadata): void;
  /** The trailers of the call's final attempt, before `end`. */
  trailer?(trailer: Metadata): void;
  /**
   * A new attempt of the call starts (retries, hedging). `attempt` counts from 1;
   * `backoffMs` is the delay waited before it (0 for the first). Called by the
   * retry runtime, once per attempt, the first included.
   */
  attempt?(info: AttemptInfo): void;
  /** The call ended. Called once. */
  end?(result: CallResult): void;
}

/** One attempt of a call (gRFC A6). */
export interface AttemptInfo {
  /** 1 for the first attempt, 2 for the first retry, ... */
  readonly attempt: number;
  /** Milliseconds waited before this attempt (backoff or server pushback); 0 for the first. */
  readonly backoffMs: number;
  /** Why the previous attempt failed, for retries. */
  readonly previous?: CallResult;
}

/** A client hook: called once per call, before anything is sent. */
export type ClientHook = (start: ClientCallStart) => ClientCallHooks | undefined;

/** The hooks of one call, composed. */
export interface ComposedServerHooks {
  /** False when no hook has `around` (`around(fn)` is then just `fn()`). */
  readonly wraps: boolean;
  around<T>(fn: () => T): T;
  request(message: unknown): void;
  response(message: unknown): void;
  end(result: CallResult): void;
}

/** The composed hooks of a call without server hooks, or whose hooks failed to start (shared). @internal */
export const noServerHooks: ComposedServerHooks = {
  wraps: false,
  around: (fn) => fn(),
  request: () => {},
  response: () => {},
  end: () => {},
};

/** Start every hook of a call; undefined when none wants per-call callbacks (no allocation then). */
function startAll<F extends (...args: never[]) => unknown>(hooks: readonly F[], start: (hook: F) => ReturnType<F>): NonNullable<ReturnType<F>>[] | undefined {
  let started: NonNullable<ReturnType<F>>[] | undefined;
  for (const hook of hooks) {
    const h = start(hook);
    if (h !== undefined && h !== null) (started ??= []).push(h as NonNullable<ReturnType<F>>);
  }
  return started;
}

/**
 * Start the server hooks of one call and compose them (first = outermost).
 *
 * @throws what a hook threw, after ending (with INTERNAL and that error) the hooks started before it.
 */
export function startServerHooks(hooks: readonly ServerHook[], method: DescMethod, context: HandlerContext): ComposedServerHooks {
  let started: ServerCallHooks[] | undefined;
  for (const hook of hooks) {
    let h: ServerCallHooks | undefined;
    try {
      h = hook(method, context);
    } catch (error) {
      if (started !== undefined) endQuietly(started, { code: 13 as Status, message: "internal error", error }); // INTERNAL, as the call answers
      throw error;
    }
    if (h !== undefined && h !== null) (started ??= []).push(h);
  }
  return started === undefined ? noServerHooks : new StartedServerHooks(started);
}

function endQuietly(started: readonly ServerCallHooks[], result: CallResult): void {
  try {
    endEach(started, result);
  } catch {
    // the call fails with the start error; a second failure while ending adds nothing to report
  }
}

/** The composed server hooks of one call: one object, methods on the prototype. */
class StartedServerHooks implements ComposedServerHooks {
  readonly wraps: boolean;
  private ended = false;

  constructor(private readonly started: readonly ServerCallHooks[]) {
    let wraps = false;
    for (const h of started) if (h.around !== undefined) wraps = true;
    this.wraps = wraps;
  }

  around<T>(fn: () => T): T {
    let run = fn;
    for (let i = this.started.length - 1; i >= 0; i--) {
      const h = this.started[i] as ServerCallHooks;
      const inner = run;
      if (h.around) run = () => h.around!(inner);
    }
    return run();
  }

  request(message: unknown): void {
    for (const h of this.started) h.request?.(message);
  }

  response(message: unknown): void {
    for (const h of this.started) h.response?.(message);
  }

  /** @throws the first error a hook's `end` threw, once every hook's `end` ran. */
  end(result: CallResult): void {
    if (this.ended) return;
    this.ended = true;
    endEach(this.started, result);
  }
}

/** Run every hook's `end`, innermost first; one that throws does not keep the others from ending. @throws the first error thrown, after all ran. */
function endEach(started: readonly { end?(result: CallResult): void }[], result: CallResult): void {
  let failure: { error: unknown } | undefined;
  for (let i = started.length - 1; i >= 0; i--) {
    try {
      started[i]?.end?.(result);
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure !== undefined) throw failure.error;
}

/** The client hooks of one call, composed. */
export interface ComposedClientHooks {
  attempt(info: AttemptInfo): void;
  request(message: unknown): void;
  response(message: unknown): void;
  header(header: Metadata): void;
  trailer(trailer: Metadata): void;
  end(result: CallResult): void;
}

/** The composed hooks of a call without hooks (shared: no per-call allocation). */
export const noClientHooks: ComposedClientHooks = {
  attempt: () => {},
  request: () => {},
  response: () => {},
  header: () => {},
  trailer: () => {},
  end: () => {},
};

/**
 * Start the client hooks of one call and compose them (first = outermost).
 *
 * @throws what a hook threw, after ending (with UNKNOWN and that error) the hooks started before it.
 */
export function startClientHooks(hooks: readonly ClientHook[], start: ClientCallStart): ComposedClientHooks {
  if (hooks.length === 0) return noClientHooks;
  const begun: ClientCallHooks[] = [];
  let started: ClientCallHooks[] | undefined;
  try {
    started = startAll(hooks, (h) => {
      const r = h(start);
      if (r) begun.push(r);
      return r;
    });
  } catch (error) {
    for (let i = begun.length - 1; i >= 0; i--) begun[i]?.end?.({ code: 2 as Status, message: "a client hook failed at call start", error });
    throw error;
  }
  if (started === undefined) return noClientHooks;
  let ended = false;
  return {
    attempt(info) {
      for (const h of started) h.attempt?.(info);
    },
    request(message) {
      for (const h of started) h.request?.(message);
    },
    response(message) {
      for (const h of started) h.response?.(message);
    },
    header(header) {
      for (const h of started) h.header?.(header);
    },
    trailer(trailer) {
      for (const h of started) h.trailer?.(trailer);
    },
    end(result) {
      if (ended) return;
      ended = true;
      endEach(started, result);
    },
  };
}
