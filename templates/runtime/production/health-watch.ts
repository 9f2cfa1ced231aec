import type { ServerWritableStream } from "@grpc/grpc-js";

/** A `grpc.health.v1.HealthCheckResponse` as grpc-health-check writes it (proto-loader, enums as strings). */
export interface HealthMessage {
  readonly status: string;
}

/**
 * What grpc-health-check's Watch handler uses of its call: `request.service`, `write()` and
 * `on("cancelled")` (it removes its watcher there). The stand-in passed to it instead of the
 * real call, so that the reporter can end the stream on drain.
 */
export interface WatchStandIn {
  readonly request: unknown;
  write(message: HealthMessage): boolean;
  on(event: string, listener: (...args: unknown[]) => void): WatchStandIn;
}

/**
 * One open Watch stream of the health service, wrapping the real grpc-js call:
 * - writes only when the status changed (grpc-health-check writes on every `setStatus`, the
 *   health.proto contract is "a new message whenever the service's serving status changes");
 * - `end()` finishes the stream with status OK (after the messages already written) and runs
 *   the library's `cancelled` listeners so it drops its watcher; writes after that are dropped.
 *
 * Source: grpc-health-check 2.1.0 `build/src/health.js` (`watch` handler).
 */
export class HealthWatch {
  private readonly cancelListeners: Array<(...args: unknown[]) => void> = [];
  private lastStatus: string | undefined;
  private ended = false;
  readonly standIn: WatchStandIn;

  constructor(
    private readonly call: ServerWritableStream<unknown, HealthMessage>,
    onGone: (watch: HealthWatch) => void,
  ) {
    call.on("cancelled", () => {
      this.ended = true;
      onGone(this);
      this.runCancelListeners();
    });
    const self = this;
    this.standIn = {
      request: call.request,
      write: (message) => self.write(message),
      on(event, listener) {
        if (event === "cancelled") self.cancelListeners.push(listener);
        else call.on(event, listener);
        return this;
      },
    };
  }

  /** Whether `end()` ran or the client went away. */
  get closed(): boolean {
    return this.ended;
  }

  /** End the stream with status OK; idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.call.end();
    this.runCancelListeners();
  }

  private write(message: HealthMessage): boolean {
    if (this.ended || message.status === this.lastStatus) return true;
    this.lastStatus = message.status;
    return this.call.write(message);
  }

  private runCancelListeners(): void {
    const listeners = this.cancelListeners.splice(0);
    for (const listener of listeners) listener();
  }
}
