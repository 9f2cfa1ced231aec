import type { DescMessage, DescMethod, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import {
  Client,
  credentials as grpcCredentials,
  type Channel,
  type ChannelCredentials,
  type ClientOptions as GrpcClientOptions,
  type Metadata,
} from "@grpc/grpc-js";
import { CallEngine, ClientLifecycle, type CallConsumer, type OpenAttempt } from "./call-engine.js";
import { startCall, type CallDefaults, type StartedCall } from "./call-setup.js";
import { bidiAttempts, clientStreamAttempts, serverStreamAttempts, unaryAttempts, type AttemptTarget } from "./client-attempts.js";
import { ResponseQueue, failingIterator } from "./client-streams.js";
import { methodDefinition } from "./definition.js";
import { parseServiceConfig, type CallPolicies, type GrpcServiceConfig, type MethodPlan } from "./grpc-service-config.js";
import type { ClientHook } from "./hooks.js";
import type { MetadataInit } from "./metadata.js";
import { enablePropagation } from "./propagation.js";
import { RequestReplay, defaultRetryBufferBytes } from "./request-replay.js";
import { RetryThrottle } from "./retry-throttle.js";
import { clientHooksOf, featureOptionKeys, type ServiceRuntimeConfig } from "./service-config.js";

export { resolveDeadline } from "./call-setup.js";

/**
 * Options of one call.
 */
export interface CallOptions {
  /** Absolute deadline: a Date, or milliseconds since the Unix epoch. Sent as `grpc-timeout`; covers all attempts and backoff. */
  readonly deadline?: Date | number;
  /**
   * Timeout in milliseconds from the start of the call, >= 0. With
   * `deadline` too, the earlier wins. Default: the method's `timeout` in the
   * client's `serviceConfig`, else none. An invalid value rejects the call
   * with a TypeError (nothing is thrown synchronously).
   */
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
  /** Called with the response headers of the attempt the call committed to. */
  readonly onHeader?: (header: Metadata) => void;
  /** Called once with the trailers when the call ends, successfully or not: the final attempt's trailers (empty if none arrived). */
  readonly onTrailer?: (trailer: Metadata) => void;
}

/**
 * Options of a client: grpc-js client and channel options (`interceptors`,
 * `grpc.keepalive_time_ms`, `grpc.max_receive_message_length`, ...), plus
 * the runtime's own: `serviceConfig`, `hooks`, `propagate`,
 * `retryBufferBytes`, and the features' (`telemetry`, `validateRequests`).
 */
export type ClientOptions = GrpcClientOptions & {
  /**
   * Call policies in the standard gRPC service config format (an object or
   * its JSON text): `methodConfig` (`name`, `timeout`, `retryPolicy`,
   * `hedgingPolicy`), `retryThrottling`, `loadBalancingConfig` (passed to
   * grpc-js, e.g. `[{ "round_robin": {} }]`). Retries and hedging run in
   * this runtime, never also in grpc-js. Default: idempotent methods
   * (idempotency_level) retried with `defaultRetryPolicy` (5 attempts,
   * UNAVAILABLE), no throttling, no timeout; a method without
   * idempotency_level is never retried or hedged. See docs/resilience.md.
   *
   * @throws TypeError / RangeError from the constructor when invalid.
   */
  readonly serviceConfig?: GrpcServiceConfig | string;
  /** Hooks run for every call, first = outermost (see `ClientHook`). Default: none. */
  readonly hooks?: readonly ClientHook[];
  /** Inherit deadline and cancellation inside generated server handlers. Default true. */
  readonly propagate?: boolean;
  /**
   * Per-call retry buffer of client-streaming and bidi calls, in bytes of
   * serialized requests, each counted with its 5-byte message frame header
   * (so that empty messages count too) (gRFC A6): once the requests sent exceed it, the
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
  readonly target: AttemptTarget["def"];
  readonly defaults: CallDefaults;
}

/** A method of a generated service, with its message types. */
type Method<I extends DescMessage, O extends DescMessage> = DescMethod & { input: I; output: O };

/** Requests a client-streaming or bidi call sends: an async or sync iterable of messages or init objects. */
export type RequestStream<I extends DescMessage> = AsyncIterable<MessageInitShape<I>> | Iterable<MessageInitShape<I>>;

/**
 * The runtime behind a generated client class: one grpc-js Client (one
 * channel), the call policies of its `serviceConfig`, and one function per
 * method kind. Every call runs on one engine (call-engine.ts): retries and
 * hedging (gRFC A6) happen there, not in grpc-js, which gets only the
 * `loadBalancingConfig` and keeps its transparent retries of attempts that
 * never reached a server.
 */
export class ClientTransport {
  /** The underlying grpc-js client. */
  readonly grpcClient: Client;
  /** The hooks every call runs. */
  readonly hooks: readonly ClientHook[];
  /** The parsed `serviceConfig`. */
  readonly policies: CallPolicies;
  /** The retry throttle shared by this client's calls (gRFC A6), when `retryThrottling` is configured. */
  readonly throttle: RetryThrottle | undefined;
  private readonly propagate: boolean;
  private readonly retryBufferBytes: number;
  private readonly plans = new Map<DescMethod, CallPlan>();
  private readonly lifecycle = new ClientLifecycle();

  /**
   * @param target - an address (`host:port`, `dns:///host:port`, `ipv4:a:p,b:p`, `unix:/path`, ...) or an existing grpc-js Channel
   * @param credentials - channel credentials; ignored when `target` is a Channel
   * @param config - the generated service's runtime config (telemetry and validation hooks)
   * @throws TypeError without credentials for an address, on a malformed `serviceConfig`, or when `grpc.service_config` sets retry policies; RangeError on an invalid policy value or `retryBufferBytes`
   */
  constructor(target: string | Channel, credentials?: ChannelCredentials, clientOptions: ClientOptions = {}, config: ServiceRuntimeConfig = {}) {
    const { hooks, serviceConfig, propagate, retryBufferBytes, ...withFeatures } = clientOptions;
    const rest: Record<string, unknown> = { ...withFeatures };
    for (const key of featureOptionKeys) delete rest[key];
    this.hooks = clientHooksOf(config, clientOptions, typeof target === "string" ? target : target.getTarget());
    this.propagate = propagate ?? true;
    if (this.propagate) enablePropagation(); // servers now enter the propagation storage (see propagation.ts)
    if (retryBufferBytes !== undefined && !(retryBufferBytes >= 0)) throw new RangeError(`retryBufferBytes must be a number >= 0, got ${retryBufferBytes}`);
    this.retryBufferBytes = retryBufferBytes ?? defaultRetryBufferBytes;
    this.policies = parseServiceConfig(serviceConfig);
    this.throttle = this.policies.throttling && new RetryThrottle(this.policies.throttling);
    const options = channelOptions(rest, this.policies) as GrpcClientOptions;
    if (typeof target === "string") {
      if (credentials === undefined) throw new TypeError("a client needs channel credentials, e.g. credentials.createInsecure()");
      this.grpcClient = new Client(target, credentials, options);
    } else {
      this.grpcClient = new Client("channel-override", grpcCredentials.createInsecure(), { ...options, channelOverride: target });
    }
  }

  /** Unary call: resolves with the response, rejects with a GrpcError (a TypeError for invalid call options). Retried or hedged per the method's plan. */
  unary<I extends DescMessage, O extends DescMessage>(method: Method<I, O>, request: MessageInitShape<I>, options: CallOptions = {}): Promise<MessageShape<O>> {
    return new Promise((resolve, reject) => {
      const plan = this.plan(method);
      const started = startCall(method, options, plan.defaults);
      const message = started.prepare(method.input, request);
      const consumer: CallConsumer = { end: (error, value) => (error ? reject(error) : resolve(value as MessageShape<O>)) };
      this.engine(plan, started, unaryAttempts(this.target(plan, started), message), consumer, false).start();
    });
  }

  /**
   * Server-streaming call: an AsyncIterable of responses. The call starts when
   * iteration starts; leaving the loop early cancels it. Errors are thrown as
   * GrpcError by the iteration, after every message received before them.
   * Retried per the method's plan only until the first response header or message.
   */
  serverStream<I extends DescMessage, O extends DescMessage>(method: Method<I, O>, request: MessageInitShape<I>, options: CallOptions = {}): AsyncIterable<MessageShape<O>> {
    return {
      [Symbol.asyncIterator]: () =>
        this.responses<O>(method, options, (plan, started) => {
          const message = started.prepare(method.input, request);
          return { open: serverStreamAttempts(this.target(plan, started), message) };
        }),
    };
  }

  /**
   * Client-streaming call: sends every request (with backpressure), resolves
   * with the one response. For an idempotent method, a failed attempt is
   * retried per the plan until the call commits (response headers
   * received, or the requests sent exceed `retryBufferBytes`): the new
   * attempt replays the requests sent so far, then continues with the
   * caller's iterable, which is never pulled twice for one message.
   */
  clientStream<I extends DescMessage, O extends DescMessage>(method: Method<I, O>, requests: RequestStream<I>, options: CallOptions = {}): Promise<MessageShape<O>> {
    return new Promise((resolve, reject) => {
      const plan = this.plan(method);
      const started = startCall(method, options, plan.defaults);
      const replay = this.replay(method, plan, started, requests);
      const consumer: CallConsumer = { end: (error, value) => (error ? reject(error) : resolve(value as MessageShape<O>)) };
      this.engine(plan, started, clientStreamAttempts(this.target(plan, started), replay), consumer, false, () => replay.close()).start();
    });
  }

  /**
   * Bidi call: sends the requests in the background (with backpressure) and
   * returns an AsyncIterable of responses. The call starts when iteration
   * starts; leaving the loop early cancels it. If the request iterable
   * throws, the call is cancelled and the iteration throws that error. For
   * an idempotent method, a failed attempt is retried per the plan until
   * the call commits (first response header or message, or the requests
   * sent exceed `retryBufferBytes`), replaying the requests sent so far.
   */
  bidiStream<I extends DescMessage, O extends DescMessage>(method: Method<I, O>, requests: RequestStream<I>, options: CallOptions = {}): AsyncIterable<MessageShape<O>> {
    return {
      [Symbol.asyncIterator]: () =>
        this.responses<O>(method, options, (plan, started) => {
          const replay = this.replay(method, plan, started, requests);
          return { open: bidiAttempts(this.target(plan, started), replay), release: () => replay.close() };
        }),
    };
  }

  /**
   * Close the channel. Attempts in flight continue (grpc-js semantics) but
   * are not retried; a call waiting in a retry backoff or between hedges,
   * and every later call, fails at once with UNAVAILABLE ("the client was
   * closed").
   */
  close(): void {
    this.lifecycle.close();
    this.grpcClient.close();
  }

  private responses<O extends DescMessage>(
    method: DescMethod,
    options: CallOptions,
    attempts: (plan: CallPlan, started: StartedCall) => { open: OpenAttempt; release?: () => void },
  ): AsyncIterator<MessageShape<O>> {
    let plan: CallPlan;
    let started: StartedCall;
    try {
      plan = this.plan(method);
      started = startCall(method, options, plan.defaults);
    } catch (err) {
      return failingIterator(err);
    }
    return new ResponseQueue<MessageShape<O>>(started.hooks, (consumer) => {
      const { open, release } = attempts(plan, started);
      return this.engine(plan, started, open, consumer, true, release);
    });
  }

  private engine(plan: CallPlan, started: StartedCall, open: OpenAttempt, consumer: CallConsumer, streaming: boolean, release?: () => void): CallEngine {
    return new CallEngine({ started, plan, throttle: this.throttle, lifecycle: this.lifecycle, open, streaming, release }, consumer);
  }

  /** The method's plan, cached per method. */
  private plan(method: DescMethod): CallPlan {
    let plan = this.plans.get(method);
    if (plan === undefined) {
      const p = this.policies.planFor(method);
      plan = { ...p, target: methodDefinition(method), defaults: { hooks: this.hooks, timeoutMs: p.timeoutMs, propagate: this.propagate } };
      this.plans.set(method, plan);
    }
    return plan;
  }

  private target(plan: CallPlan, started: StartedCall): AttemptTarget {
    return { client: this.grpcClient, def: plan.target, deadline: started.deadline };
  }

  private replay(method: DescMethod, plan: CallPlan, started: StartedCall, requests: RequestStream<DescMessage>): RequestReplay {
    return new RequestReplay(requests, {
      schema: method.input,
      serialize: plan.target.requestSerialize,
      hooks: started.hooks,
      keepBytes: plan.retry && this.retryBufferBytes,
    });
  }
}

/**
 * The grpc-js options of the channel: the user's, with `grpc.service_config`
 * carrying only the `loadBalancingConfig` of `serviceConfig`, and service
 * configs from DNS TXT records off (`grpc.service_config_disable_resolution`,
 * unless the user set it), so grpc-js never runs retry policies of its own.
 *
 * @throws TypeError when the user's raw `grpc.service_config` sets `methodConfig` or `retryThrottling` (use `serviceConfig`).
 */
function channelOptions(options: Record<string, unknown>, policies: CallPolicies): Record<string, unknown> {
  const raw = options["grpc.service_config"];
  if (typeof raw === "string" && /"(methodConfig|retryPolicy|hedgingPolicy|retryThrottling)"/.test(raw)) {
    throw new TypeError("grpc.service_config may not set methodConfig or retryThrottling (grpc-js would retry too): pass them as the client's serviceConfig option");
  }
  const out = { ...options };
  if (policies.channelServiceConfig !== undefined) {
    if (raw !== undefined) throw new TypeError("set loadBalancingConfig in serviceConfig or in grpc.service_config, not both");
    out["grpc.service_config"] = policies.channelServiceConfig;
  }
  if (!("grpc.service_config_disable_resolution" in out)) out["grpc.service_config_disable_resolution"] = 1;
  return out;
}

/**
 * Create the transport of a generated client from its constructor's
 * arguments: `(address, credentials, options?)` or `(channel, options?)`,
 * and the service's `<Service>RuntimeConfig` (telemetry and validation hooks).
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
