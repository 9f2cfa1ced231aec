import type { GeneratedFile, Printable } from "@bufbuild/protoplugin";
import type { MethodModel, ServiceModel } from "../model/service-model.js";
import type { ServiceEmitOptions } from "./emit-server.js";
import { docText } from "./doc-text.js";
import type { FileImports } from "./file-imports.js";

/**
 * Emit the typed client class of a service. With `telemetry` on, the
 * transport comes from the runtime's telemetry part (a client telemetry hook
 * in front of the caller's hooks) and the options type accepts `telemetry`.
 */
export function emitClient(f: GeneratedFile, s: ServiceModel, im: FileImports, options: ServiceEmitOptions): void {
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
  f.print(f.export("class", s.names.client), " {");
  f.print("  /** The runtime behind this client: the grpc-js Client and one function per method kind. */");
  f.print("  readonly transport: ", transport, ";");
  f.print();
  f.print("  /** Connect to an address (`host:port`, `dns:///host:port`, `unix:/path`) with channel credentials. */");
  f.print("  constructor(address: string, credentials: ", credentials, ", options?: ", clientOptions, ");");
  f.print("  /** Use an existing grpc-js Channel. */");
  f.print("  constructor(channel: ", channel, ", options?: ", clientOptions, ");");
  f.print("  constructor(target: string | ", channel, ", credentialsOrOptions?: ", credentials, " | ", clientOptions, ", options?: ", clientOptions, ") {");
  f.print("    this.transport = ", createTransport, "(target, credentialsOrOptions, options, ", s.names.runtimeConfig, ");");
  f.print("  }");
  for (const m of s.methods) {
    f.print();
    f.print(f.jsDoc(docText({ comment: m.comment, generatedFrom: `rpc ${s.desc.typeName}.${m.desc.name}`, deprecated: m.deprecated }), "  "));
    emitClientMethod(f, s, m, im);
  }
  f.print();
  f.print("  /** Close the channel: calls in flight finish, new calls fail. */");
  f.print("  close(): void {");
  f.print("    this.transport.close();");
  f.print("  }");
  f.print();
  f.print("  /** The grpc-js Channel this client uses. */");
  f.print("  getChannel(): ", im.grpc("ChannelInterface", true), " {");
  f.print("    return this.transport.grpcClient.getChannel();");
  f.print("  }");
  f.print("}");
  f.print();
}

function emitClientMethod(f: GeneratedFile, s: ServiceModel, m: MethodModel, im: FileImports): void {
  const callOptions = im.runtime("CallOptions", true);
  const method = [im.service(s.desc), ".method.", m.localName];
  const input: Printable = [im.protobuf("MessageInitShape", true), "<typeof ", im.schemaType(m.desc.input), ">"];
  const requests: Printable = [im.runtime("RequestStream", true), "<typeof ", im.schemaType(m.desc.input), ">"];
  const output = im.shape(m.desc.output);
  switch (m.kind) {
    case "unary":
      f.print("  ", m.clientName, "(request: ", input, ", options?: ", callOptions, "): Promise<", output, "> {");
      f.print("    return this.transport.unary(", method, ", request, options);");
      break;
    case "server_streaming":
      f.print("  ", m.clientName, "(request: ", input, ", options?: ", callOptions, "): AsyncIterable<", output, "> {");
      f.print("    return this.transport.serverStream(", method, ", request, options);");
      break;
    case "client_streaming":
      f.print("  ", m.clientName, "(requests: ", requests, ", options?: ", callOptions, "): Promise<", output, "> {");
      f.print("    return this.transport.clientStream(", method, ", requests, options);");
      break;
    case "bidi_streaming":
      f.print("  ", m.clientName, "(requests: ", requests, ", options?: ", callOptions, "): AsyncIterable<", output, "> {");
      f.print("    return this.transport.bidiStream(", method, ", requests, options);");
      break;
  }
  f.print("  }");
}
