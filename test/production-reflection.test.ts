import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, Metadata, type Server } from "@grpc/grpc-js";
import { create, createFileRegistry, fromBinary, getOption, hasOption, toBinary, type DescFile, type FileRegistry } from "@bufbuild/protobuf";
import { Edition, FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { field as validateField, file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Status } from "@grpckit/runtime";
import { addReflectionService } from "@grpckit/runtime/production";
import { insecure, startServer } from "./support/grpc.js";
import { generateWithDebianProtos, type Generated } from "./support/health-clients.js";
import { generateValidated } from "./support/validate-proto.js";

/**
 * `addReflectionService` (grpc.reflection.v1 and v1alpha through @grpc/reflection) on a real
 * grpc-js server on 127.0.0.1, asked by clients generated from Debian's grpc-proto reflection
 * protos; the services are editions files with buf.validate rules, across two files.
 */
const types = `edition = "2023";
package refl.v1;
import "buf/validate/validate.proto";
import "google/protobuf/timestamp.proto";
message Item {
  string name = 1 [(buf.validate.field).string.min_len = 1];
  google.protobuf.Timestamp at = 2;
}
`;
const catalog = `edition = "2023";
package refl.v1;
import "buf/validate/validate.proto";
import "refl/v1/types.proto";
message GetRequest { string id = 1 [(buf.validate.field).string.min_len = 3]; }
message GetResponse { Item item = 1; }
service Catalog { rpc Get(GetRequest) returns (GetResponse); }
`;
const hidden = `syntax = "proto3";
package refl.v1;
message Secret { string text = 1; }
service Hidden { rpc Tell(Secret) returns (Secret); }
`;

let gen: { catalog: Generated; hidden: Generated };
let clients: Record<"v1" | "v1alpha", Generated>;

beforeAll(async () => {
  const out = generateValidated({ "refl/v1/types.proto": types, "refl/v1/catalog.proto": catalog, "refl/v1/hidden.proto": hidden });
  const refl = generateWithDebianProtos(["grpc/reflection/v1/reflection.proto", "grpc/reflection/v1alpha/reflection.proto"]);
  gen = { catalog: await import(`${out}/refl/v1/catalog_grpckit.ts`), hidden: await import(`${out}/refl/v1/hidden_grpckit.ts`) };
  clients = { v1: await import(`${refl}/grpc/reflection/v1/reflection_grpckit.ts`), v1alpha: await import(`${refl}/grpc/reflection/v1alpha/reflection_grpckit.ts`) };
});

const catalogImpl = { get: async (req: { id: string }) => ({ item: { name: `item-${req.id}` } }) };
const hiddenImpl = { tell: async (req: { text: string }) => ({ text: req.text }) };

async function startReflected(register: (server: Server) => void) {
  const s = await startServer(register);
  const client = (version: "v1" | "v1alpha") => new clients[version].ServerReflectionClient(s.address, insecure());
  return { ...s, client };
}

type Request = { case: string; value: unknown };

/** One ServerReflectionInfo stream: send the requests, collect the responses' `messageResponse`. */
async function ask(client: Generated, requests: Request[]): Promise<Array<{ case: string; value: Generated }>> {
  const out: Array<{ case: string; value: Generated }> = [];
  for await (const res of client.serverReflectionInfo(requests.map((r) => ({ host: "", messageRequest: r })))) out.push(res.messageResponse);
  return out;
}

const decode = (bytes: Uint8Array[]): FileDescriptorProto[] => bytes.map((b) => fromBinary(FileDescriptorProtoSchema, b));

/**
 * The files ordered imports first, as a FileDescriptorSet for createFileRegistry must be (the
 * response lists the requested file first, then its imports in no set order).
 */
function importsFirst(files: FileDescriptorProto[]): FileDescriptorProto[] {
  const byName = new Map(files.map((f) => [f.name, f]));
  const ordered: FileDescriptorProto[] = [];
  const visit = (f: FileDescriptorProto) => {
    if (ordered.includes(f)) return;
    for (const dep of f.dependency) visit(byName.get(dep) ?? fail(`${f.name} imports ${dep}, not in the response`));
    ordered.push(f);
  };
  files.forEach(visit);
  return ordered;
}

function fail(message: string): never {
  throw new Error(message);
}

/** The names of buf/validate/validate.proto and its transitive imports, from protovalidate's own embedded descriptor. */
function validateClosure(): string[] {
  const names = new Set<string>();
  const visit = (f: DescFile) => (names.has(f.proto.name) ? undefined : (names.add(f.proto.name), f.dependencies.forEach(visit)));
  visit(file_buf_validate_validate);
  return [...names];
}

describe.each(["v1", "v1alpha"] as const)("reflection %s", (version) => {
  let s: Awaited<ReturnType<typeof startReflected>>;
  let client: Generated;
  beforeAll(async () => {
    s = await startReflected((server) => {
      gen.catalog.addCatalog(server, catalogImpl);
      addReflectionService(server);
      gen.hidden.addHidden(server, hiddenImpl); // registered after: listed too
    });
    client = s.client(version);
  });
  afterAll(async () => (client?.close(), await s?.stop()));

  it("lists the generated services and the reflection services themselves", async () => {
    const [res] = await ask(client, [{ case: "listServices", value: "*" }]);
    expect(res?.case).toBe("listServicesResponse");
    expect(res?.value.service.map((x: { name: string }) => x.name).sort()).toEqual([
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
      "refl.v1.Catalog",
      "refl.v1.Hidden",
    ]);
  });

  it("file_containing_symbol returns the file and its whole closure, editions and buf.validate options intact", async () => {
    const [res] = await ask(client, [{ case: "fileContainingSymbol", value: "refl.v1.Catalog" }]);
    expect(res?.case).toBe("fileDescriptorResponse");
    const files = decode(res?.value.fileDescriptorProto);
    expect(files[0]?.name).toBe("refl/v1/catalog.proto");
    const expected = ["refl/v1/catalog.proto", "refl/v1/types.proto", "google/protobuf/timestamp.proto", ...validateClosure()];
    expect(files.map((f) => f.name).sort()).toEqual([...new Set(expected)].sort());
    const byName = new Map(files.map((f) => [f.name, f]));
    expect(byName.get("refl/v1/catalog.proto")?.edition).toBe(Edition.EDITION_2023);
    expect(byName.get("refl/v1/types.proto")?.edition).toBe(Edition.EDITION_2023);

    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: importsFirst(files) }));
    const id = registry.getMessage("refl.v1.GetRequest")!.fields[0]!;
    expect(hasOption(id, validateField)).toBe(true);
    expect(getOption(id, validateField).type).toMatchObject({ case: "string", value: { minLen: 3n } });
    await expect(dynamicGet(s.address, registry, "abc")).resolves.toEqual({ item: { name: "item-abc" } });
  });

  it("answers several requests on one stream; an unknown symbol gets NOT_FOUND in the stream", async () => {
    const res = await ask(client, [
      { case: "fileContainingSymbol", value: "refl.v1.Nope" },
      { case: "fileByFilename", value: "refl/v1/types.proto" },
      { case: "fileContainingSymbol", value: "refl.v1.Catalog.Get" },
    ]);
    expect(res.map((r) => r.case)).toEqual(["errorResponse", "fileDescriptorResponse", "fileDescriptorResponse"]);
    expect(res[0]?.value.errorCode).toBe(Status.NOT_FOUND);
    expect(decode(res[1]?.value.fileDescriptorProto)[0]?.name).toBe("refl/v1/types.proto");
    expect(decode(res[2]?.value.fileDescriptorProto)[0]?.name).toBe("refl/v1/catalog.proto");
  });

  it("describes the reflection service itself", async () => {
    const [res] = await ask(client, [{ case: "fileContainingSymbol", value: `grpc.reflection.${version}.ServerReflection` }]);
    expect(res?.case).toBe("fileDescriptorResponse");
    const files = decode(res?.value.fileDescriptorProto);
    expect(files[0]?.service.map((x) => x.name)).toEqual(["ServerReflection"]);
    expect(files[0]?.package).toBe(`grpc.reflection.${version}`);
  });
});

describe("an allow-list", () => {
  it("lists and describes only the allowed services (and reflection)", async () => {
    const s = await startReflected((server) => {
      gen.catalog.addCatalog(server, catalogImpl);
      gen.hidden.addHidden(server, hiddenImpl);
      addReflectionService(server, { services: ["refl.v1.Catalog", "refl.v1.NotRegistered"] });
    });
    const client = s.client("v1");
    try {
      const res = await ask(client, [
        { case: "listServices", value: "*" },
        { case: "fileContainingSymbol", value: "refl.v1.Hidden" },
        { case: "fileByFilename", value: "refl/v1/hidden.proto" },
        { case: "fileContainingSymbol", value: "refl.v1.Catalog" },
      ]);
      expect(res[0]?.value.service.map((x: { name: string }) => x.name).sort()).toEqual([
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "refl.v1.Catalog",
      ]);
      expect(res.slice(1, 3).map((r) => [r.case, r.value.errorCode])).toEqual([
        ["errorResponse", Status.NOT_FOUND],
        ["errorResponse", Status.NOT_FOUND],
      ]);
      expect(decode(res[3]?.value.fileDescriptorProto)[0]?.name).toBe("refl/v1/catalog.proto");
    } finally {
      client.close();
      await s.stop();
    }
  });
});

/** Call refl.v1.Catalog/Get with schemas from `registry` only (no generated code), via grpc-js. */
async function dynamicGet(address: string, registry: FileRegistry, id: string): Promise<unknown> {
  const method = registry.getService("refl.v1.Catalog")!.methods.find((m) => m.name === "Get")!;
  const request = toBinary(method.input, create(method.input, { id }));
  const client = new Client(address, insecure());
  try {
    const bytes = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(`/refl.v1.Catalog/Get`, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(request), new Metadata(), (err, res) => (err ? reject(err) : resolve(res!))),
    );
    const response = fromBinary(method.output, bytes);
    return { item: { name: (response as unknown as { item: { name: string } }).item.name } };
  } finally {
    client.close();
  }
}
