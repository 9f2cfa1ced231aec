import type { DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";

/** The HTTP/2 path of a method, `/package.Service/Method` (gRPC over HTTP/2 spec, "Path"). */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

const definitions = new WeakMap<DescService, ServiceDefinition>();

/**
 * The grpc-js ServiceDefinition of a service: for each method its path,
 * stream flags and serializers in the protobuf binary wire format
 * (`@bufbuild/protobuf` `toBinary` / `fromBinary`). Keys are the proto
 * method names. Built once per service and cached.
 */
export function createServiceDefinition(service: DescService): ServiceDefinition {
  let def = definitions.get(service);
  if (def === undefined) {
    const d: Record<string, MethodDefinition<unknown, unknown>> = Object.create(null); // no prototype: an rpc named __proto__ is a key like any other
    for (const method of service.methods) d[method.name] = methodDefinition(method);
    def = d as ServiceDefinition;
    definitions.set(service, def);
  }
  return def;
}

const serverDefinitions = new WeakMap<DescService, ServiceDefinition>();

/**
 * The ServiceDefinition a generated server registers: {@link createServiceDefinition},
 * except that responses reach grpc-js already serialized (`responseSerialize`
 * passes the Buffer through). The server runtime serializes each response
 * itself, inside the handler's error handling, so that a response that cannot
 * be serialized answers INTERNAL through `onInternalError` and the hooks see
 * that status (grpc-js would answer on its own, after the hooks ended OK).
 *
 * @internal For the server runtime.
 */
export function serverServiceDefinition(service: DescService): ServiceDefinition {
  let def = serverDefinitions.get(service);
  if (def === undefined) {
    const d: Record<string, MethodDefinition<unknown, unknown>> = Object.create(null); // no prototype: an rpc named __proto__ is a key like any other
    for (const method of service.methods) d[method.name] = { ...methodDefinition(method), responseSerialize: passBuffer };
    def = d as ServiceDefinition;
    serverDefinitions.set(service, def);
  }
  return def;
}

function passBuffer(value: unknown): Buffer {
  return value as Buffer;
}

const methodDefinitions = new WeakMap<DescMethod, MethodDefinition<unknown, unknown>>();

/** The grpc-js MethodDefinition of one method (cached). */
export function methodDefinition(method: DescMethod): MethodDefinition<unknown, unknown> {
  let def = methodDefinitions.get(method);
  if (def === undefined) {
    def = {
      path: methodPath(method),
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
      originalName: method.localName,
    };
    methodDefinitions.set(method, def);
  }
  return def;
}

function serializer(schema: DescMessage): (value: unknown) => Buffer {
  return (value) => {
    const bytes = toBinary(schema, value as never);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(schema: DescMessage): (bytes: Buffer) => unknown {
  return (bytes) => fromBinary(schema, bytes);
}
