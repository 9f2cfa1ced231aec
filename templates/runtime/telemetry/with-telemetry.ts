import type { ClientOptions } from "../client.js";
import type { ServerOptions } from "../server.js";
import type { HookProvider } from "../service-config.js";
import { createClientTelemetryHook } from "./client-hook.js";
import type { ServerTelemetryOptions, TelemetryOptions } from "./options.js";
import { createServerTelemetryHook } from "./server-hook.js";

/** Client options of generated clients built with telemetry (the default). */
export type TracedClientOptions = ClientOptions & {
  /**
   * OpenTelemetry wiring of this client: options, or `false` to turn it off
   * for this client. Default: on, with the global providers. The telemetry
   * hook runs first (outermost), before `hooks`.
   */
  readonly telemetry?: TelemetryOptions | false;
};

/** Server options of generated `add<Service>` functions built with telemetry (the default). */
export type TracedServerOptions = ServerOptions & {
  /**
   * OpenTelemetry wiring of this service: options, or `false` to turn it off.
   * Default: on, with the global providers. The telemetry hook runs first
   * (outermost), before `hooks`, so it sees calls that later hooks (e.g.
   * validation) reject.
   */
  readonly telemetry?: ServerTelemetryOptions | false;
};

/**
 * The telemetry of generated services, for their `<Service>RuntimeConfig`
 * (`telemetry: telemetryHooks`). The server hook and the client hook are the
 * outermost hooks, so they see every call, including those later hooks
 * (e.g. validation) reject. Off for a server or client whose options say
 * `telemetry: false`; `server.address` / `server.port` of client spans come
 * from the client's target.
 */
export const telemetryHooks: HookProvider = {
  serverHook(options) {
    const telemetry = (options as TracedServerOptions).telemetry;
    return telemetry === false ? undefined : createServerTelemetryHook(telemetry);
  },
  clientHook(options, target) {
    const telemetry = (options as TracedClientOptions).telemetry;
    return telemetry === false ? undefined : createClientTelemetryHook({ ...telemetry, target });
  },
};
