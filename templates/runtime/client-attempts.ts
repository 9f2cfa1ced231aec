import type { Client, Metadata, StatusObject } from "@grpc/grpc-js";
import type { methodDefinition } from "./definition.js";
import type { ComposedClientHooks } from "./hooks.js";
import type { Attempt } from "./retry.js";

type Definition = ReturnType<typeof methodDefinition>;

/** Callbacks on the response headers and trailers of a call. */
export interface Observers {
  readonly onHeader?: (header: Metadata) => void;
  readonly onTrailer?: (trailer: Metadata) => void;
}

/** What every attempt of one call shares. */
export interface AttemptContext {
  readonly client: Client;
  readonly def: Definition;
  readonly metadata: Metadata;
  /** Absolute deadline, ms since the Unix epoch (Infinity = none): the same for all attempts, so `grpc-timeout` shrinks. */
  readonly deadline: number;
  readonly hooks: ComposedClientHooks;
  readonly observers: Observers;
}

/** A unary or client-streaming attempt; the response resolves once the status (and trailers) arrived. */
export interface CallAttempt<T> extends Attempt<T> {
  /** The trailers of this attempt, once it ended. */
  readonly trailer: Metadata | undefined;
}

/** Start one attempt of a unary call. Each attempt sends a copy of the request metadata. */
export function startUnaryAttempt<T>(ctx: AttemptContext, message: unknown): CallAttempt<T> {
  let committed = false;
  let trailer: Metadata | undefined;
  let cancel = () => {};
  const result = new Promise<T>((resolve, reject) => {
    let response: unknown;
    const call = ctx.client.makeUnaryRequest(
      ctx.def.path,
      ctx.def.requestSerialize,
      ctx.def.responseDeserialize,
      message,
      ctx.metadata.clone(),
      { deadline: ctx.deadline },
      (err, value) => {
        if (err) reject(err);
        else response = value;
      },
    );
    call.on("metadata", (header: Metadata) => {
      committed = true;
      ctx.hooks.header(header);
      ctx.observers.onHeader?.(header);
    });
    call.on("status", (s: StatusObject) => {
      trailer = s.metadata;
      if (s.code === 0) resolve(response as T);
    });
    cancel = () => call.cancel();
  });
  return {
    result,
    cancel: () => cancel(),
    get committed() {
      return committed;
    },
    get trailer() {
      return trailer;
    },
  };
}

/** The grpc-js events a streaming call emits that observers care about. */
interface ObservableCall {
  on(event: "metadata", l: (m: Metadata) => void): unknown;
  on(event: "status", l: (s: StatusObject) => void): unknown;
}

/** Forward a streaming call's headers to the hooks and observers, and its trailers to `onTrailer`. */
export function observeCall(call: ObservableCall, ctx: Pick<AttemptContext, "hooks" | "observers">, onHeader?: () => void): void {
  call.on("metadata", (header) => {
    onHeader?.();
    ctx.hooks.header(header);
    ctx.observers.onHeader?.(header);
  });
  const onTrailer = ctx.observers.onTrailer;
  if (onTrailer) call.on("status", (s) => onTrailer(s.metadata));
}
