import type { DescMessage, DescMethod, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import {
  Client,
  credentials as grpcCredentials,
  type Channel,
  type ChannelCredentials,
  type ClientOptions as GrpcClientOptions,
  type Metadata,
} from "@grpc/grpc-js";
import { startCall, type CallDefaults, type StartedCall } from "./call-setup.js";
import { UnaryAttempt, openBidiAttempt, settleCall, startClientStreamAttempt, type AttemptContext } from "./client-attempts.js";
import { createResponseIterator, failingIterator } from "./client-streams.js";
import { methodDefinition } from "./definition.js";
import type { ClientHook } from "./hooks.js";
import type { MetadataInit } from "./metadata.js";
import { runHedged } from "./retry-hedging.js";
import {
  guardChannelOptions,
  planMethod,
  resolveClientPolicies,
  type ClientResilienceOverrides,
  type MethodPlan,
  type ResilienceOverrides,
} from "./retry-options.js";
import type { ServicePolicies } from "./retry-policy.js";
import { RetryThrottle } from "./retry-throttle.js";
import { clientHooksOf, featureOptionKeys, type ServiceRuntimeConfig } from "./service-config.js";
import { RequestReplay, defaultRetryBufferBytes } from "./request-replay.js";
import { RetryController, runWithRetries } from "./retry.js";

export { resolveDeadline } from "./call-setup.js";

/**
 * Options of one call.
 */
export interface CallOptions extends ResilienceOverrides {
  /** Absolute deadline: a Date, or milliseconds since the Unix epoch. Sent as `grpc-timeout`; covers all attempts and backoff. */
  readonly deadline?: Date | number;
  /** Timeout in milliseconds from the start of the call. With `deadline` too, the earlier wins. Default: the client's / method's default timeout. */
  readonly timeoutMs?: number;
  /** Request metadata (headers). */
  readonly metadata?: MetadataInit;
  /** Aborting cancels the call (the attempt in flight and any backoff): it rejects (or its stream throws) with CANCELLED. */
  readonly signal?: AbortSignal;
  /**
   * Inside a generated server handler: inherit the handler's deadline (the
   * earlier wins) and cancellation. Default true; false opts this call out.
   */
  readonly propagate?: boolean;
  /** Called with the response headers when they arrive. */
  readonly onHeader?: (header: Metadata) => void;
  /** Called once with the trailers when the call ends, successfully or not: the final attempt's trailers (empty if none arrived). */
  readonly onTrailer?: (trailer: Metadata) => void;
}

/**
 * Options of a client: grpc-js client and channel options (`interceptors`,
 * `grpc.keepalive_time_ms`, `grpc.max_receive_message_length`, ...), plus
 * the runtime's own: `hooks`, `retry`, `hedging`, `retryThrottling`,
 * `timeoutMs` (see ClientResilienceOverrides), `propagate`, `retryBufferBytes`.
 */
export type ClientOptions = GrpcClientOptions &
  ClientResilienceOverrides & {
    /** Hooks run for every call, first = outermost (see `ClientHook`). Default: none. */
    readonly hooks?: readonly ClientHook[];
    /** Inherit deadline and cancellation inside generated server handlers. Default true. */
    readonly propagate?: boolean;
    /**
     * Per-call retry buffer of client-streaming and bidi calls, in bytes of
     * serialized requests (gRFC A6): once the requests sent exceed it, the
     * call commits and is no longer retried. Default 262144 (256 KiB, like
     * grpc-js's `grpc.per_rpc_retry_buffer_size`); 0 or more.
     */
    readonly retryBufferBytes?: number;
    /**
     * Validate every request message with the service's generated buf.validate
     * validators before sending; an invalid one fails the call locally with
     * INVALID_ARGUMENT (google.rpc.BadRequest detail), nothing is sent.
     * Default false.
     */
    readonly validateRequests?: boolean;
  };

/** A method's plan with what every call of it needs (cached per method). */
interface CallPlan extends MethodPlan {
  readonly def: AttemptContext["def"];
  readonly defaults: CallDefaults;
}

/** A method of a generated service, with its message types. */
type Method<I extends DescMessage, O extends DescMessage> = DescMethod & { input: I; output: O };

/** Requests a client-streaming or bidi call sends: an async or sync iterable of messages or init objects. */
export type RequestStream<I extends DescMessage> = AsyncIterable<MessageInitShape<I>> | Iterable<MessageInitShape<I>>;

/**
 * The runtime behind a generated client class: one grpc-js Client (one
 * channel), the service's call policies, and one function per method kind.
 * Retries (gRFC A6) run in this runtime, not in grpc-js: the channel gets no
 * retry policy, so grpc-js only does its transparent retries of attempts
 * that never reached the server's handler.
 */
export class ClientTransport {
  /** The underlying grpc-js client. */
  readonly grpcClient: Client;
  /** The hooks every call runs. */
  readonly hooks: readonly ClientHook[];
  /** The policies in force: the generated table with the client's overrides applied (see `setPolicies`). */
  policies: ServicePolicies;
  /** The retry throttle shared by this client's calls (gRFC A6), if throttling is on. */
  throttle: RetryThrottle | undefined;
  private readonly propagate: boolean;
  private readonly retryBufferBytes: number;
  private readonly overrides: ClientResilienceOverrides;
  private readonly plans = new Map<DescMethod, CallPlan>();

  /**
   * @param target - an address (`host:port`, `dns:///host:port`, `unix:/path`, ...) or an existing grpc-js Channel
   * @param credentials - channel credentials; ignored when `target` is a Channel
   * @param policies - the generated service's policy table (plugin options); default: no retries, no timeout
   * @throws TypeError without credentials for an address, or when `grpc.service_config` would retry too; RangeError on a bad policy or `retryBufferBytes`
   */
  constructor(target: string | Channel, credentials?: ChannelCredentials, clientOptions: ClientOptions = {}, config: ServiceRuntimeConfig = {}) {
    const { hooks, retry, hedging, retryThrottling, timeoutMs, propagate, retryBufferBytes, ...withFeatures } = clientOptions;
    const rest: Record<string, unknown> = { ...withFeatures };
    for (const key of featureOptionKeys) delete rest[key];
    const policies = config.policies ?? {};
    this.hooks = clientHooksOf(config, clientOptions, typeof target === "string" ? target : target.getTarget());
    this.propagate = propagate ?? true;
    if (retryBufferBytes !== undefined && !(retryBufferBytes >= 0)) throw new RangeError(`retryBufferBytes must be a number >= 0, got ${retryBufferBytes}`);
    this.retryBufferBytes = retryBufferBytes ?? defaultRetryBufferBytes;
    this.overrides = { retry, hedging, retryThrottling, timeoutMs };
    this.policies = resolveClientPolicies(policies, this.overrides);
    this.throttle = this.policies.throttling && new RetryThrottle(this.policies.throttling);
    const options = guardChannelOptions(rest, this.overrides) as GrpcClientOptions;
    if (typeof target === "string") {
      if (credentials === undefined) throw new TypeError("a client needs channel credentials, e.g. credentials.createInsecure()");
      this.grpcClient = new Client(target, credentials, options);
    } else {
      this.grpcClient = new Client("channel-override", grpcCredentials.createInsecure(), { ...options, channelOverride: target });
    }
  }

  /** Unary call: resolves with the response, rejects with a GrpcError. Retried or hedged per the method's policy. */
  unary<I extends DescMessage, O extends DescMessage>(
    method: Method<I, O>,
    request: MessageInitShape<I>,
    options: CallOptions = {},
  ): Promise<MessageShape<O>> {
    const plan = this.plan(method, options);
    const started = startCall(method, options, plan.defaults);
    const message = started.prepare(method.input, request);
    if (started.error) return Promise.reject(started.fail(started.error));
    const ctx = this.attemptContext(plan, started, options);
    const controller = this.controller(started, plan.retry);
    const hedging = plan.hedging;
    return new Promise((resolve, reject) => {
      const finish = settleCall<MessageShape<O>>(started, resolve, reject);
      if (hedging === undefined) {
        runWithRetries(controller, started.signals, (done) => new UnaryAttempt<MessageShape<O>>(ctx, message, done), finish);
      } else {
        const hedgingPlan = { policy: hedging, throttle: this.throttle, deadline: started.deadline };
        runHedged(controller, hedgingPlan, started.signals, (done, onCommit) => new UnaryAttempt<MessageShape<O>>(ctx, message, done, onCommit), finish);
      }
    });
  }

  /**
   * Server-streaming call: an AsyncIterable of responses. The call starts when
   * iteration starts; leaving the loop early cancels it. Errors are thrown as
   * GrpcError by the iteration. Retried per the method's policy only until the
   * first response header or message.
   */
  serverStream<I extends DescMessage, O extends DescMessage>(
    method: Method<I, O>,
    request: MessageInitShape<I>,
    options: CallOptions = {},
  ): AsyncIterable<MessageShape<O>> {
    return {
      [Symbol.asyncIterator]: () => {
        const plan = this.plan(method, options);
        const started = startCall(method, options, plan.defaults);
        const message = started.prepare(method.input, request);
        if (started.error) return failingIterator(started.fail(started.error));
        const ctx = this.attemptContext(plan, started, options);
        const open = () =>
          ctx.client.makeServerStreamRequest(ctx.def.path, ctx.def.requestSerialize, ctx.def.responseDeserialize, message, ctx.metadata.clone(), {
            deadline: ctx.deadline,
          });
        return createResponseIterator<MessageShape<O>>({ started, controller: this.controller(started, plan.retry), ctx, open });
      },
    };
  }

  /**
   * Client-streaming call: sends every request (with backpressure), resolves
   * with the one response. For an idempotent method, a failed attempt is
   * retried per the policy until the call commits (response headers
   * received, or the requests sent exceed `retryBufferBytes`): the new
   * attempt replays the requests sent so far, then continues with the
   * caller's iterable, which is never pulled twice for one message.
   */
  clientStream<I extends DescMessage, O extends DescMessage>(
    method: Method<I, O>,
    requests: RequestStream<I>,
    options: CallOptions = {},
  ): Promise<MessageShape<O>> {
    const plan = this.plan(method, options);
    const started = startCall(method, options, plan.defaults);
    if (started.error) return Promise.reject(started.fail(started.error));
    const ctx = this.attemptContext(plan, started, options);
    const replay = this.replay(method, ctx, started, plan, requests);
    const controller = this.controller(started, plan.retry);
    return new Promise((resolve, reject) => {
      const finish = settleCall<MessageShape<O>>(started, resolve, reject, replay);
      runWithRetries(controller, started.signals, (done) => startClientStreamAttempt<MessageShape<O>>(ctx, replay, done), finish);
    });
  }

  /**
   * Bidi call: sends the requests in the background (with backpressure) and
   * returns an AsyncIterable of responses. The call starts when iteration
   * starts; leaving the loop early cancels it. If the request iterable
   * throws, the call is cancelled and the iteration throws that error. For
   * an idempotent method, a failed attempt is retried per the policy until
   * the call commits (first response header or message, or the requests
   * sent exceed `retryBufferBytes`), replaying the requests sent so far.
   */
  bidiStream<I extends DescMessage, O extends DescMessage>(
    method: Method<I, O>,
    requests: RequestStream<I>,
    options: CallOptions = {},
  ): AsyncIterable<MessageShape<O>> {
    return {
      [Symbol.asyncIterator]: () => {
        const plan = this.plan(method, options);
        const started = startCall(method, options, plan.defaults);
        if (started.error) return failingIterator(started.fail(started.error));
        const ctx = this.attemptContext(plan, started, options);
        const replay = this.replay(method, ctx, started, plan, requests);
        const requestFailure = new AbortController();
        return createResponseIterator<MessageShape<O>>({
          started,
          controller: this.controller(started, plan.retry),
          ctx,
          open: () => openBidiAttempt(ctx, replay, requestFailure),
          requestFailure: requestFailure.signal,
          requestsCommitted: () => replay.overflowed || replay.failed,
          release: () => replay.close(),
        });
      },
    };
  }

  /**
   * Install the generated service's policy table (plugin option defaults);
   * the client's overrides apply on top. Generated constructors call this
   * once. Resets the retry throttle.
   *
   * @throws RangeError on an invalid policy.
   */
  setPolicies(table: ServicePolicies): void {
    this.policies = resolveClientPolicies(table, this.overrides);
    this.throttle = this.policies.throttling && new RetryThrottle(this.policies.throttling);
    this.plans.clear();
  }

  /** Close the channel; calls in flight continue, new calls fail. */
  close(): void {
    this.grpcClient.close();
  }

  /** The method's plan: cached per method, computed per call only when the call overrides `retry` / `hedging`. */
  private plan(method: DescMethod, options: CallOptions): CallPlan {
    if (options.retry !== undefined || options.hedging !== undefined) return this.callPlan(method, planMethod(this.policies, method, options));
    let plan = this.plans.get(method);
    if (plan === undefined) {
      plan = this.callPlan(method, planMethod(this.policies, method, {}));
      this.plans.set(method, plan);
    }
    return plan;
  }

  private callPlan(method: DescMethod, plan: MethodPlan): CallPlan {
    return { ...plan, def: methodDefinition(method), defaults: { hooks: this.hooks, timeoutMs: plan.timeoutMs, propagate: this.propagate } };
  }

  private attemptContext(plan: CallPlan, started: StartedCall, options: CallOptions): AttemptContext {
    return { client: this.grpcClient, def: plan.def, metadata: started.metadata, deadline: started.deadline, hooks: started.hooks, observers: options };
  }

  private replay(method: DescMethod, ctx: AttemptContext, started: StartedCall, plan: MethodPlan, requests: RequestStream<DescMessage>): RequestReplay {
    return new RequestReplay(requests, {
      schema: method.input,
      serialize: ctx.def.requestSerialize,
      hooks: started.hooks,
      keepBytes: plan.retry && this.retryBufferBytes,
    });
  }

  private controller(started: StartedCall, policy: MethodPlan["retry"]): RetryController {
    return new RetryController({ policy, throttle: this.throttle, deadline: started.deadline, hooks: started.hooks });
  }
}

/**
 * Create the transport of a generated client from its constructor's
 * arguments: `(address, credentials, options?)` or `(channel, options?)`,
 * and the service's `<Service>RuntimeConfig` (policies, telemetry and
 * validation hooks).
 */
export function createClientTransport(
  target: string | Channel,
  credentialsOrOptions?: ChannelCredentials | ClientOptions,
  options?: ClientOptions,
  config?: ServiceRuntimeConfig,
): ClientTransport {
  if (typeof target === "string") {
    return new ClientTransport(target, credentialsOrOptions as ChannelCredentials, options, config);
  }
  return new ClientTransport(target, undefined, credentialsOrOptions as ClientOptions | undefined, config);
}
