import type { GeneratedFile, Printable } from "@bufbuild/protoplugin";
import type { MethodModel, ServiceModel } from "../model/service-model.js";
import type { ServiceEmitOptions } from "./emit-server.js";
import { docText } from "./doc-text.js";
import type { FileImports } from "./file-imports.js";
import { params, printFunction, type Param, type Target } from "./emit-target.js";

/**
 * Emit the typed client class of a service. With `telemetry` on, the
 * transport comes from the runtime's telemetry part (a client telemetry hook
 * in front of the caller's hooks) and the options type accepts `telemetry`.
 */
export function emitClient(f: GeneratedFile, t: Target, s: ServiceModel, im: FileImports, options: ServiceEmitOptions): void {
  const transport = im.runtime("ClientTransport", true);
  const createTransport = im.runtime("createClientTransport");
  const channel = im.grpc("Channel", true);
  const credentials = im.grpc("ChannelCredentials", true);
  const clientOptions = options.telemetry ? im.telemetry("TracedClientOptions", true) : im.runtime("ClientOptions", true);
  f.print(
    f.jsDoc(
      docText({
        comment: s.comment,
        summary:
          `A client of ${s.desc.typeName} on one grpc-js channel. Unary and client-streaming methods return a Promise; ` +
          `server-streaming and bidi methods return an AsyncIterable. Failures reject (or throw from the iteration) with a GrpcError.`,
        generatedFrom: `service ${s.desc.typeName}`,
        deprecated: s.deprecated,
      }),
    ),
  );
  f.print(f.export(t === "dts" ? "declare class" : "class", s.names.client), " {");
  if (t !== "js") {
    f.print("  /** The runtime behind this client: the grpc-js Client and one function per method kind. */");
    f.print("  readonly transport: ", transport, ";");
    f.print();
    f.print("  /** Connect to an address (`host:port`, `dns:///host:port`, `unix:/path`) with channel credentials. */");
    f.print("  constructor(address: string, credentials: ", credentials, ", options?: ", clientOptions, ");");
    f.print("  /** Use an existing grpc-js Channel. */");
    f.print("  constructor(channel: ", channel, ", options?: ", clientOptions, ");");
  }
  if (t !== "dts") {
    const ps: Param[] = [
      { name: im.local("target"), type: ["string | ", channel] },
      { name: im.local("credentialsOrOptions"), type: [credentials, " | ", clientOptions], optional: true },
      { name: im.local("options"), type: clientOptions, optional: true },
    ];
    f.print("  constructor(", params(t, ps), ") {");
    f.print("    this.transport = ", createTransport, "(target, credentialsOrOptions, options, ", s.names.runtimeConfig, ");");
    f.print("  }");
  }
  for (const m of s.methods) {
    f.print();
    f.print(f.jsDoc(docText({ comment: m.comment, generatedFrom: `rpc ${s.desc.typeName}.${m.desc.name}`, deprecated: m.deprecated }), "  "));
    emitClientMethod(f, t, s, m, im);
  }
  f.print();
  f.print("  /** Close the channel: calls in flight finish, new calls fail. */");
  printFunction(f, t, { method: "close", indent: "  " }, [], "void", () => f.print("    this.transport.close();"));
  f.print();
  f.print("  /** The grpc-js Channel this client uses. */");
  printFunction(f, t, { method: "getChannel", indent: "  " }, [], im.grpc("ChannelInterface", true), () =>
    f.print("    return this.transport.grpcClient.getChannel();"),
  );
  f.print("}");
  f.print();
}

/** The method's transport call and its request parameter, by method kind. */
const calls = {
  unary: { call: "unary", request: "request", returns: "Promise" },
  server_streaming: { call: "serverStream", request: "request", returns: "AsyncIterable" },
  client_streaming: { call: "clientStream", request: "requests", returns: "Promise" },
  bidi_streaming: { call: "bidiStream", request: "requests", returns: "AsyncIterable" },
} as const;

function emitClientMethod(f: GeneratedFile, t: Target, s: ServiceModel, m: MethodModel, im: FileImports): void {
  const c = calls[m.kind];
  const schema = im.schemaType(m.desc.input);
  const request: Printable =
    c.request === "request"
      ? [im.protobuf("MessageInitShape", true), "<typeof ", schema, ">"]
      : [im.runtime("RequestStream", true), "<typeof ", schema, ">"];
  const ps: Param[] = [
    { name: im.local(c.request), type: request },
    { name: im.local("options"), type: im.runtime("CallOptions", true), optional: true },
  ];
  const method = [im.service(s.desc), ".method.", m.localName];
  printFunction(f, t, { method: m.clientName, indent: "  " }, ps, [im.global(c.returns), "<", im.shape(m.desc.output), ">"], () =>
    f.print("    return this.transport.", c.call, "(", method, ", ", c.request, ", options);"),
  );
}
