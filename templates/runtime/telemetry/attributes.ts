import type { DescMethod } from "@bufbuild/protobuf";
import type { Metadata } from "@grpc/grpc-js";
import type { Attributes } from "@opentelemetry/api";
import { attr, emitsOld, emitsStable, isError, statusName, type SemconvMode } from "./semconv.js";

/** A network endpoint: host name, IP address or socket path, and a port when there is one. */
export interface Endpoint {
  readonly address: string;
  readonly port?: number;
}

/** Target schemes whose path is a host[:port] list (gRPC Name Resolution, grpc-js resolvers). */
const hostSchemes: ReadonlySet<string> = new Set(["dns", "ipv4", "ipv6"]);

/**
 * The server endpoint a client target names (gRPC Name Resolution,
 * https://github.com/grpc/grpc/blob/master/doc/naming.md): `host:port`,
 * `dns:[//authority/]host[:port]`, `ipv4:a.b.c.d:port[,...]` (the first
 * address), `ipv6:[addr]:port`, `[addr]:port`, `unix:path` /
 * `unix://absolute-path` / `unix-abstract:name` (the path, no port), another
 * scheme in URI form (`xds:///host:port`: the path), or a grpc-js channel's
 * `getTarget()`. The port defaults to 443 for host names without one, as
 * grpc-js does. Returns undefined for an empty target.
 */
export function parseTarget(target: string): Endpoint | undefined {
  let rest = target.trim();
  if (rest === "") return undefined;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(rest)?.[1]?.toLowerCase();
  if (scheme === "unix" || scheme === "unix-abstract") {
    return { address: rest.slice(scheme.length + 1).replace(/^\/\/(?=\/)/, "") };
  }
  // `localhost:50051` parses as scheme "localhost": like grpc-js, an unknown scheme without `//` is part of the host.
  if (scheme !== undefined && (hostSchemes.has(scheme) || rest.startsWith("//", scheme.length + 1))) {
    rest = rest.slice(scheme.length + 1);
    if (rest.startsWith("//")) rest = rest.slice(rest.indexOf("/", 2) + 1 || rest.length);
    rest = rest.split(",")[0] ?? rest;
  }
  return splitHostPort(rest, 443);
}

/**
 * The endpoint of a grpc-js peer string (`127.0.0.1:53412`, `[::1]:53412`,
 * `unix:/path`), as `HandlerContext.peer` gives it.
 */
export function parsePeer(peer: string): Endpoint | undefined {
  if (peer === "" || peer === "unknown") return undefined;
  if (peer.startsWith("unix:")) return { address: peer.slice(5) };
  return splitHostPort(peer, undefined);
}

function splitHostPort(hostPort: string, defaultPort: number | undefined): Endpoint | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort);
  if (bracketed) return endpoint(bracketed[1]!, bracketed[2], defaultPort);
  const colons = hostPort.split(":").length - 1;
  if (colons === 1) {
    const i = hostPort.lastIndexOf(":");
    return endpoint(hostPort.slice(0, i), hostPort.slice(i + 1), defaultPort);
  }
  // No port, or a bare IPv6 address.
  return hostPort === "" ? undefined : endpoint(hostPort, undefined, defaultPort);
}

function endpoint(address: string, port: string | undefined, defaultPort: number | undefined): Endpoint {
  const n = port === undefined || port === "" ? defaultPort : Number(port);
  return n === undefined || !Number.isInteger(n) ? { address } : { address, port: n };
}

/**
 * The attributes of a call known when it starts, in the given mode: the RPC
 * system, service and method, and the server endpoint when known. Frozen:
 * built once per method and shared by every call's span and metric points.
 */
export function buildCallAttributes(method: DescMethod, mode: SemconvMode, server: Endpoint | undefined): Attributes {
  const a: Attributes = {};
  if (emitsOld(mode)) {
    a[attr.rpcSystem] = "grpc";
    a[attr.rpcService] = method.parent.typeName;
    a[attr.rpcMethod] = method.name;
  }
  if (emitsStable(mode)) {
    a[attr.rpcSystemName] = "grpc";
    // In "dup" the stable, fully-qualified value wins: both sets use the key `rpc.method`.
    a[attr.rpcMethod] = `${method.parent.typeName}/${method.name}`;
  }
  if (server !== undefined) {
    a[attr.serverAddress] = server.address;
    if (server.port !== undefined) a[attr.serverPort] = server.port;
  }
  return Object.freeze(a);
}

/**
 * The peer attributes (`network.peer.address` / `network.peer.port`) of a
 * grpc-js peer string, frozen; empty when the peer is unknown.
 */
export function buildPeerAttributes(peer: string): Attributes {
  const endpoint = parsePeer(peer);
  const a: Attributes = {};
  if (endpoint !== undefined) {
    a[attr.networkPeerAddress] = endpoint.address;
    if (endpoint.port !== undefined) a[attr.networkPeerPort] = endpoint.port;
  }
  return Object.freeze(a);
}

/** The attributes of a final status code, frozen (see `createStatusAttributes`). */
export type StatusAttributes = (code: number) => Attributes;

/**
 * The attributes of the final status in `mode` from `side`'s point of view,
 * built once per code and shared by every call: `rpc.grpc.status_code` (old,
 * integer), `rpc.status_code` (stable, name) and `error.type` (stable, the
 * status name, only when the call failed from `side`'s point of view).
 */
export function createStatusAttributes(mode: SemconvMode, side: "client" | "server"): StatusAttributes {
  const byCode: Attributes[] = [];
  return (code) => {
    let a = byCode[code];
    if (a === undefined) {
      const built: Attributes = {};
      if (emitsOld(mode)) built[attr.rpcGrpcStatusCode] = code;
      if (emitsStable(mode)) {
        const name = statusName(code);
        built[attr.rpcStatusCode] = name;
        if (isError(code, side)) built[attr.errorType] = name;
      }
      byCode[code] = a = Object.freeze(built);
    }
    return a;
  };
}

/** Which metadata an opt-in list records: request headers, response headers or response trailers. */
export type MetadataKind = "request" | "response" | "trailer";

const metadataPrefixes: Record<MetadataKind, { readonly old: string; readonly stable: string }> = {
  request: { old: attr.oldRequestMetadata, stable: attr.requestHeader },
  response: { old: attr.oldResponseMetadata, stable: attr.responseHeader },
  // The old conventions have one attribute for all response metadata, headers and trailers.
  trailer: { old: attr.oldResponseMetadata, stable: attr.responseTrailer },
};

/**
 * Add the opted-in metadata entries as string-array attributes, under the
 * old (`rpc.grpc.{request,response}.metadata.<key>`) and / or stable
 * (`rpc.request.header.<key>`, `rpc.response.header.<key>`,
 * `rpc.response.trailer.<key>`) names. Binary (`-bin`) values are base64.
 * Keys not present are skipped. An old-convention key already set (a key
 * sent both as header and trailer) gets the values appended.
 */
export function addMetadataAttributes(a: Attributes, md: Metadata, keys: readonly string[], mode: SemconvMode, kind: MetadataKind): void {
  const prefix = metadataPrefixes[kind];
  for (const key of keys) {
    const values = md.get(key);
    if (values.length === 0) continue;
    const strings = values.map((v) => (typeof v === "string" ? v : v.toString("base64")));
    if (emitsOld(mode)) {
      const name = prefix.old + key;
      const before = a[name];
      a[name] = Array.isArray(before) ? [...(before as string[]), ...strings] : strings;
    }
    if (emitsStable(mode)) a[prefix.stable + key] = strings;
  }
}
