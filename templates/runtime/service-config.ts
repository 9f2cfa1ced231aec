import type { ClientHook, ServerHook } from "./hooks.js";

/**
 * A feature that adds hooks to the generated servers and clients of a
 * service (request validation, telemetry). It reads its own settings from the
 * options the user passes to `add<Service>()` or to the client constructor,
 * e.g. `validateRequests` or `telemetry`.
 */
export interface HookProvider {
  /** The server hook of a service registered with these options; undefined when the feature is off for them. */
  serverHook?(options: object): ServerHook | undefined;
  /** The client hook of a client of `target` created with these options; undefined when off. */
  clientHook?(options: object, target: string): ClientHook | undefined;
}

/**
 * What the plugin generated for one service beyond its definition: the
 * `<Service>RuntimeConfig` constant, which the generated `add<Service>()`
 * functions and client constructor pass to the runtime. All parts optional.
 */
export interface ServiceRuntimeConfig {
  /** Telemetry (`@grpckit/runtime/telemetry`): its hooks are the outermost. */
  readonly telemetry?: HookProvider;
  /** Request validation (`@grpckit/runtime/validate`): its hooks are the innermost. */
  readonly validation?: HookProvider;
}

/**
 * The option keys the features read; they are removed before the options
 * reach grpc-js (unknown keys would become channel options).
 */
export const featureOptionKeys: readonly string[] = ["telemetry", "validateRequests"];

/** The server hooks of a service: telemetry first (outermost), then the user's, then validation. */
export function serverHooksOf(config: ServiceRuntimeConfig, options: { readonly hooks?: readonly ServerHook[] }): ServerHook[] {
  const hooks: ServerHook[] = [];
  const telemetry = config.telemetry?.serverHook?.(options);
  if (telemetry) hooks.push(telemetry);
  if (options.hooks) hooks.push(...options.hooks);
  const validation = config.validation?.serverHook?.(options);
  if (validation) hooks.push(validation);
  return hooks;
}

/** The client hooks of a client: telemetry first (outermost), then the user's, then validation. */
export function clientHooksOf(config: ServiceRuntimeConfig, options: { readonly hooks?: readonly ClientHook[] }, target: string): ClientHook[] {
  const hooks: ClientHook[] = [];
  const telemetry = config.telemetry?.clientHook?.(options, target);
  if (telemetry) hooks.push(telemetry);
  if (options.hooks) hooks.push(...options.hooks);
  const validation = config.validation?.clientHook?.(options, target);
  if (validation) hooks.push(validation);
  return hooks;
}
