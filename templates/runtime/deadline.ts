import { GrpcError, Status } from "./grpc-error.js";

/**
 * Deadline and cancellation plumbing of a client call: one absolute deadline
 * per call (ms since the Unix epoch, `Infinity` for none), any number of
 * AbortSignals that cancel it, and sleeps that end early when one aborts.
 * Every timer and listener created here is removed when it is no longer
 * needed (the `{ signal, cleanup }` discipline of connect-es).
 */

/**
 * The GrpcError a call fails with when one of its signals aborted: the
 * reason itself if it is a GrpcError (e.g. the DEADLINE_EXCEEDED or
 * CANCELLED of an upstream call whose deadline and cancellation were
 * inherited), else CANCELLED with the reason as `cause`; origin `"local"`.
 */
export function abortedError(signal: AbortSignal): GrpcError {
  const reason: unknown = signal.reason;
  if (reason instanceof GrpcError) return new GrpcError(reason.code, reason.rawMessage, { cause: reason, origin: "local" });
  return new GrpcError(Status.CANCELLED, "call cancelled", { cause: reason, origin: "local" });
}

/** The first aborted signal, or undefined. */
export function firstAborted(signals: readonly AbortSignal[]): AbortSignal | undefined {
  for (const s of signals) if (s.aborted) return s;
  return undefined;
}

/**
 * Call `onAbort(signal)` once when any of `signals` aborts. Returns the
 * cleanup that removes the listeners (idempotent); it also runs after the
 * first abort.
 */
export function onAnyAbort(signals: readonly AbortSignal[], onAbort: (signal: AbortSignal) => void): () => void {
  if (signals.length === 0) return noop;
  const listeners = signals.map((s) => {
    const l = () => {
      cleanup();
      onAbort(s);
    };
    s.addEventListener("abort", l, { once: true });
    return l;
  });
  let done = false;
  const cleanup = () => {
    if (done) return;
    done = true;
    signals.forEach((s, i) => s.removeEventListener("abort", listeners[i]!));
  };
  return cleanup;
}

/**
 * Wait `ms` milliseconds (a backoff or pushback delay). Rejects with
 * {@link abortedError} as soon as one of `signals` aborts; the timer and the
 * listeners are removed either way. Callers never sleep past the call's
 * deadline: they check `now + ms < deadline` first.
 */
export function sleep(ms: number, signals: readonly AbortSignal[]): Promise<void> {
  const aborted = firstAborted(signals);
  if (aborted) return Promise.reject(abortedError(aborted));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unlink();
      resolve();
    }, ms);
    const unlink = onAnyAbort(signals, (s) => {
      clearTimeout(timer);
      reject(abortedError(s));
    });
  });
}

/**
 * The earliest of the given absolute deadlines (ms since the epoch);
 * `undefined` entries are ignored; `Infinity` when none is set.
 */
export function earliestDeadline(...deadlines: (number | undefined)[]): number {
  let d = Infinity;
  for (const x of deadlines) if (x !== undefined && x < d) d = x;
  return d;
}

function noop(): void {}
