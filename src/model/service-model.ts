import type { DescFile, DescMethod, DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { indexComments } from "./comments.js";
import { checkNames, reservedClientMembers } from "./check-names.js";

/** The four method kinds of gRPC; an exhaustive switch on this breaks the build when one is added. */
export type MethodKind = "unary" | "server_streaming" | "client_streaming" | "bidi_streaming";

/** The method's `idempotency_level` (descriptor.proto `MethodOptions`). */
export type Idempotency = "idempotency_unknown" | "no_side_effects" | "idempotent";

/** What the emitters need to know about one rpc. Plain readonly data. */
export interface MethodModel {
  readonly desc: DescMethod;
  readonly kind: MethodKind;
  /** The property name in the handler interface (protobuf-es `localName`). */
  readonly localName: string;
  /**
   * The method name in the client class: `localName`, with `$` appended when it
   * would shadow a member every generated client has (`close`, `getChannel`,
   * `transport`), the escape protobuf-es uses for reserved property names.
   */
  readonly clientName: string;
  /** The HTTP/2 path, `/package.Service/Method`. */
  readonly path: string;
  readonly idempotency: Idempotency;
  readonly deprecated: boolean;
  /** The proto's leading comment, without comment markers, or undefined. */
  readonly comment: string | undefined;
}

/** The names a service's generated declarations take. */
export interface ServiceNames {
  /** Handler interface, e.g. `UserServiceServer`. */
  readonly server: string;
  /** Registration functions, e.g. `addUserService` and `addPartialUserService`. */
  readonly add: string;
  readonly addPartial: string;
  /** grpc-js ServiceDefinition constant, e.g. `UserServiceDefinition`. */
  readonly definition: string;
  /** Client class, e.g. `UserServiceClient`. */
  readonly client: string;
  /** The service's runtime configuration constant (validation, telemetry), e.g. `UserServiceRuntimeConfig`. */
  readonly runtimeConfig: string;
}

/** What the emitters need to know about one service. */
export interface ServiceModel {
  readonly desc: DescService;
  readonly names: ServiceNames;
  readonly methods: readonly MethodModel[];
  readonly deprecated: boolean;
  /** The proto's leading comment, without comment markers, or undefined. */
  readonly comment: string | undefined;
}

/** The model of one proto file that declares services. */
export interface FileModel {
  readonly desc: DescFile;
  readonly services: readonly ServiceModel[];
}

/**
 * Build the model of a file. Throws a UserError (file and element named)
 * when a generated name cannot be expressed.
 */
export function buildFileModel(file: DescFile): FileModel {
  const services = file.services.map(buildServiceModel);
  checkNames(file, services);
  return { desc: file, services };
}

function buildServiceModel(desc: DescService): ServiceModel {
  const comments = indexComments(desc.file);
  const n = desc.name;
  const deprecated = desc.deprecated;
  return {
    desc,
    names: {
      server: `${n}Server`,
      add: `add${n}`,
      addPartial: `addPartial${n}`,
      definition: `${n}Definition`,
      client: `${n}Client`,
      runtimeConfig: `${n}RuntimeConfig`,
    },
    methods: desc.methods.map((m) => buildMethodModel(m, comments.leading(m))),
    deprecated,
    comment: cleanComment(comments.leading(desc)),
  };
}

function buildMethodModel(desc: DescMethod, leading: string | undefined): MethodModel {
  const deprecated = desc.deprecated;
  return {
    desc,
    kind: desc.methodKind,
    localName: desc.localName,
    clientName: reservedClientMembers.includes(desc.localName) ? `${desc.localName}$` : desc.localName,
    path: `/${desc.parent.typeName}/${desc.name}`,
    idempotency: idempotencyOf(desc),
    deprecated,
    comment: cleanComment(leading),
  };
}

function idempotencyOf(desc: DescMethod): Idempotency {
  switch (desc.idempotency) {
    case MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS:
      return "no_side_effects";
    case MethodOptions_IdempotencyLevel.IDEMPOTENT:
      return "idempotent";
    default:
      return "idempotency_unknown";
  }
}

/** Strip the trailing newline and the one space protoc keeps after `//`. */
function cleanComment(leading: string | undefined): string | undefined {
  if (leading === undefined) return undefined;
  const text = leading.replace(/\n$/, "");
  return text
    .split("\n")
    .map((l) => (l.startsWith(" ") ? l.substring(1) : l))
    .join("\n")
    .trimEnd();
}
