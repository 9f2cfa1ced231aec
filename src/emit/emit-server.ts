import type { GeneratedFile, Printable } from "@bufbuild/protoplugin";
import type { MethodModel, ServiceModel } from "../model/service-model.js";
import type { GrpckitOptions } from "../options/parse-options.js";
import { docText } from "./doc-text.js";
import type { FileImports } from "./file-imports.js";
import { printFunction, type Param, type Target } from "./emit-target.js";

/** Plugin options the service emitters read. */
export type ServiceEmitOptions = Pick<GrpckitOptions, "telemetry">;

/** Emit the handler interface (ts and dts only) and the registration functions of a service. */
export function emitServer(f: GeneratedFile, t: Target, s: ServiceModel, im: FileImports, options: ServiceEmitOptions): void {
  if (t !== "js") emitHandlerInterface(f, s, im);
  emitAddFunctions(f, t, s, im, options);
}

function emitHandlerInterface(f: GeneratedFile, s: ServiceModel, im: FileImports): void {
  f.print(
    f.jsDoc(
      docText({
        comment: s.comment,
        summary:
          `The handlers of ${s.desc.typeName}. Register them on a grpc-js Server with \`${s.names.add}()\`, ` +
          `or \`${s.names.addPartial}()\` to implement only some methods.`,
        generatedFrom: `service ${s.desc.typeName}`,
        deprecated: s.deprecated,
      }),
    ),
  );
  f.print(f.export("interface", s.names.server), " {");
  for (const m of s.methods) {
    f.print(f.jsDoc(docText({ comment: m.comment, generatedFrom: `rpc ${s.desc.typeName}.${m.desc.name}`, deprecated: m.deprecated }), "  "));
    f.print("  ", m.localName, "(", handlerSignature(m, im), ";");
  }
  f.print("}");
  f.print();
}

/** `request: X, context: HandlerContext): Promise<...>` for one method kind. */
function handlerSignature(m: MethodModel, im: FileImports): Printable {
  const ctx = ["context: ", im.runtime("HandlerContext", true)];
  const input = im.shape(m.desc.input);
  const output = [im.protobuf("MessageInitShape", true), "<typeof ", im.schemaType(m.desc.output), ">"];
  const promise = im.global("Promise");
  const iterable = im.global("AsyncIterable");
  const responses = im.runtime("StreamResponses", true);
  switch (m.kind) {
    case "unary":
      return ["request: ", input, ", ", ctx, "): ", promise, "<", output, ">"];
    case "server_streaming":
      return ["request: ", input, ", ", ctx, "): ", responses, "<", output, ">"];
    case "client_streaming":
      return ["requests: ", iterable, "<", input, ">, ", ctx, "): ", promise, "<", output, ">"];
    case "bidi_streaming":
      return ["requests: ", iterable, "<", input, ">, ", ctx, "): ", responses, "<", output, ">"];
  }
}

/** `add<Service>` / `addPartial<Service>`, passing the service's `<Service>RuntimeConfig`. */
function emitAddFunctions(f: GeneratedFile, t: Target, s: ServiceModel, im: FileImports, emitOptions: ServiceEmitOptions): void {
  const server = im.grpc("Server", true);
  const options = emitOptions.telemetry ? im.telemetry("TracedServerOptions", true) : im.runtime("ServerOptions", true);
  const params = (impl: Printable): Param[] => [
    { name: im.local("server"), type: server },
    { name: im.local("impl"), type: impl },
    { name: im.local("options"), type: options, optional: true },
  ];
  const body = () => f.print("  ", im.runtime("addServiceImplementation"), "(server, ", im.service(s.desc), ", impl, options, ", s.names.runtimeConfig, ");");
  f.print(
    f.jsDoc(
      docText({
        summary:
          `Register an implementation of every method of ${s.desc.typeName} on a grpc-js Server. ` +
          `A handler that throws a GrpcError answers with its status; any other error answers INTERNAL ` +
          `("internal error") and is reported through \`options.onInternalError\`.`,
        generatedFrom: `service ${s.desc.typeName}`,
        deprecated: s.deprecated,
      }),
    ),
  );
  printFunction(f, t, { function: s.names.add }, params(s.names.server), "void", body);
  f.print();
  f.print(
    f.jsDoc(
      docText({
        summary: `Register an implementation of some methods of ${s.desc.typeName}; the methods left out answer UNIMPLEMENTED.`,
        generatedFrom: `service ${s.desc.typeName}`,
        deprecated: s.deprecated,
      }),
    ),
  );
  printFunction(f, t, { function: s.names.addPartial }, params([im.global("Partial"), "<", s.names.server, ">"]), "void", body);
  f.print();
}
