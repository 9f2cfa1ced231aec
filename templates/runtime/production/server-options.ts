import type { ServerOptions } from "@grpc/grpc-js";

/**
 * Limits and keepalive settings of a production grpc-js `Server`. Every field
 * is optional in {@link productionServerOptions}; a missing one takes its
 * value from {@link productionServerDefaults}. All are positive integers.
 */
export interface ProductionServerLimits {
  /**
   * Largest message, in bytes, the server accepts from a client AND sends to
   * one (`grpc.max_receive_message_length` and `grpc.max_send_message_length`).
   * A bigger message fails the call with RESOURCE_EXHAUSTED. Default 4 MiB
   * (4_194_304): grpc's default receive limit in every implementation, so a
   * server never sends what a default client would refuse (grpc-js alone
   * sends unlimited by default).
   */
  readonly maxMessageBytes?: number;
  /**
   * Concurrent streams (calls) per HTTP/2 connection
   * (`grpc.max_concurrent_streams`, sent as SETTINGS_MAX_CONCURRENT_STREAMS).
   * Further calls on that connection wait in the client. Default 100, the
   * smallest value RFC 9113 (section 5.1.2) recommends a peer allow; bounds
   * the memory and handler concurrency one client connection can tie up.
   */
  readonly maxConcurrentStreams?: number;
  /**
   * Age, in milliseconds, after which the server asks a connection to go
   * away (`grpc.max_connection_age_ms`, GOAWAY; gRFC A9). Clients reconnect
   * and, through an L4 balancer or DNS, spread over new backends. Default
   * 30 minutes (1_800_000): reconnects stay rare, yet a scaled-out
   * deployment is rebalanced within half an hour.
   */
  readonly maxConnectionAgeMs?: number;
  /**
   * After `maxConnectionAgeMs`, how long, in milliseconds, calls still open
   * on the old connection may run before it is closed
   * (`grpc.max_connection_age_grace_ms`). Default 30 seconds (30_000):
   * longer than typical unary calls, short enough to recycle connections.
   */
  readonly maxConnectionAgeGraceMs?: number;
  /**
   * A connection without calls for this many milliseconds is closed with
   * GOAWAY (`grpc.max_connection_idle_ms`; gRFC A9). Frees file descriptors
   * and memory of abandoned clients. Default 5 minutes (300_000), below the
   * 350 s TCP idle timeout of AWS Network Load Balancers, so the server, not
   * the balancer, closes the connection (a clean GOAWAY, not a reset).
   */
  readonly maxConnectionIdleMs?: number;
  /**
   * Interval, in milliseconds, of the server's keepalive PINGs on a
   * connection (`grpc.keepalive_time_ms`; gRFC A8). Detects dead clients
   * (half-open TCP). Default 2 hours (7_200_000), the gRFC A8 server
   * default: pings are cheap but every one wakes mobile radios.
   */
  readonly keepaliveTimeMs?: number;
  /**
   * How long, in milliseconds, the server waits for a PING's ack before it
   * drops the connection (`grpc.keepalive_timeout_ms`). Default 20 seconds
   * (20_000), the gRFC A8 default.
   */
  readonly keepaliveTimeoutMs?: number;
}

/**
 * The production defaults, as documented on each field of
 * {@link ProductionServerLimits} (frozen). See docs/operations.md.
 */
export const productionServerDefaults: Readonly<Required<ProductionServerLimits>> = Object.freeze({
  maxMessageBytes: 4 * 1024 * 1024,
  maxConcurrentStreams: 100,
  maxConnectionAgeMs: 30 * 60_000,
  maxConnectionAgeGraceMs: 30_000,
  maxConnectionIdleMs: 5 * 60_000,
  keepaliveTimeMs: 2 * 60 * 60_000,
  keepaliveTimeoutMs: 20_000,
});

/**
 * grpc-js `ServerOptions` (channel options) for `new Server(...)` from the
 * production limits: `limits` override {@link productionServerDefaults}
 * field by field, then `extra` (any grpc-js server option, e.g.
 * `interceptors` or `grpc-node.max_session_memory`) is merged on top and
 * wins.
 *
 * Client keepalive: the options also set `grpc.keepalive_permit_without_calls`
 * to 1, the policy "clients may keep idle connections alive with PINGs".
 * grpc-js servers enforce no ping policy at all (they answer every PING and
 * never send GOAWAY `too_many_pings`, unlike grpc-go and C-core servers,
 * whose default minimum interval is 5 minutes), so any client keepalive
 * works against this server; the key records the policy for option sets
 * shared with other implementations. Clients should still keep their
 * keepalive time at 1 minute or more (gRFC A8) so that they also work
 * behind proxies that enforce one.
 *
 * ```ts
 * const server = new Server(productionServerOptions({ maxMessageBytes: 16 << 20 }));
 * ```
 *
 * @throws RangeError naming the field when a limit is not a positive safe integer
 */
export function productionServerOptions(limits: ProductionServerLimits = {}, extra: ServerOptions = {}): ServerOptions {
  const l = { ...productionServerDefaults };
  for (const key of Object.keys(productionServerDefaults) as (keyof ProductionServerLimits)[]) {
    const value = limits[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`productionServerOptions: ${key} must be a positive integer, got ${String(value)}`);
    }
    l[key] = value;
  }
  return {
    "grpc.max_receive_message_length": l.maxMessageBytes,
    "grpc.max_send_message_length": l.maxMessageBytes,
    "grpc.max_concurrent_streams": l.maxConcurrentStreams,
    "grpc.max_connection_age_ms": l.maxConnectionAgeMs,
    "grpc.max_connection_age_grace_ms": l.maxConnectionAgeGraceMs,
    "grpc.max_connection_idle_ms": l.maxConnectionIdleMs,
    "grpc.keepalive_time_ms": l.keepaliveTimeMs,
    "grpc.keepalive_timeout_ms": l.keepaliveTimeoutMs,
    "grpc.keepalive_permit_without_calls": 1,
    ...extra,
  };
}
