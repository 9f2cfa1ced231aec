import type { Channel, ChannelCredentials } from "@grpc/grpc-js";
import { createClientTransport, type ClientOptions, type ClientTransport } from "../client.js";
import type { ServerOptions } from "../server.js";
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
 * `createClientTransport` with a client telemetry hook in front of the
 * caller's hooks; `server.address` / `server.port` come from the target
 * (or the channel's `getTarget()`). Generated clients call this when
 * generated with `telemetry=true` (the default).
 */
export function createTracedClientTransport(
  target: string | Channel,
  credentialsOrOptions?: ChannelCredentials | TracedClientOptions,
  options?: TracedClientOptions,
): ClientTransport {
  const givenOptions = (typeof target === "string" ? options : (credentialsOrOptions as TracedClientOptions | undefined)) ?? {};
  const { telemetry, ...rest } = givenOptions;
  const clientOptions: ClientOptions =
    telemetry === false
      ? rest
      : {
          ...rest,
          hooks: [
            createClientTelemetryHook({ ...telemetry, target: typeof target === "string" ? target : target.getTarget() }),
            ...(rest.hooks ?? []),
          ],
        };
  if (typeof target === "string") return createClientTransport(target, credentialsOrOptions as ChannelCredentials, clientOptions);
  return createClientTransport(target, clientOptions);
}

/**
 * Server options with a server telemetry hook in front of the caller's
 * hooks (unless `telemetry: false`). Generated `add<Service>` functions call
 * this when generated with `telemetry=true` (the default).
 */
export function withServerTelemetry(options: TracedServerOptions = {}): ServerOptions {
  const { telemetry, ...rest } = options;
  if (telemetry === false) return rest;
  return { ...rest, hooks: [createServerTelemetryHook(telemetry), ...(rest.hooks ?? [])] };
}
