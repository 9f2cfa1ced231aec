import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestSchema, GrpcError, Status } from "@grpckit/runtime";
import { insecure, startServer } from "./support/grpc.js";
import { generateValidated } from "./support/validate-proto.js";

/**
 * Request validation enforced by generated servers (on by default) and
 * generated clients (opt-in), over real grpc-js on 127.0.0.1.
 */
const proto = `syntax = "proto3";
package vtest.v1;
import "buf/validate/validate.proto";

message CreateUserRequest {
  string email = 1 [(buf.validate.field).string.email = true];
  string name = 2 [(buf.validate.field).string.min_len = 2];
}
message CreateUserResponse { int32 count = 1; }
message Item { string sku = 1 [(buf.validate.field).string.min_len = 3]; }
message Ping { string text = 1; }

service Users {
  rpc Create(CreateUserRequest) returns (CreateUserResponse);
  rpc Upload(stream Item) returns (CreateUserResponse);
  rpc Chat(stream Item) returns (stream Item);
  rpc Echo(Ping) returns (Ping);
}
`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Gen = any;
let gen: Gen;
let genOff: Gen;

beforeAll(async () => {
  const out = generateValidated({ "vtest/v1/users.proto": proto });
  gen = await import(`${out}/vtest/v1/users_grpckit.ts`);
  const off = generateValidated({ "vtest/v1/users.proto": proto }, "target=ts,validate=false");
  genOff = await import(`${off}/vtest/v1/users_grpckit.ts`);
});

function createImpl() {
  const seen = { create: 0, upload: [] as string[], chat: [] as string[], echo: 0 };
  const impl = {
    async create() {
      seen.create++;
      return { count: 1 };
    },
    async upload(reqs: AsyncIterable<{ sku: string }>) {
      for await (const r of reqs) seen.upload.push(r.sku);
      return { count: seen.upload.length };
    },
    async *chat(reqs: AsyncIterable<{ sku: string }>) {
      for await (const r of reqs) {
        seen.chat.push(r.sku);
        yield { sku: r.sku };
      }
    },
    async echo(req: { text: string }) {
      seen.echo++;
      return { text: req.text };
    },
  };
  return { seen, impl };
}

async function serve(module: Gen, serverOptions: object = {}, clientOptions: object = {}) {
  const { seen, impl } = createImpl();
  const s = await startServer((server) => module.addUsers(server, impl, { telemetry: false, ...serverOptions }));
  const client = new module.UsersClient(s.address, insecure(), { telemetry: false, ...clientOptions });
  return { seen, client, s, close: async () => (client.close(), await s.stop()) };
}

async function rejection(p: Promise<unknown>): Promise<GrpcError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(GrpcError);
  return err as GrpcError;
}

function fieldViolations(err: GrpcError) {
  const br = err.findDetail(BadRequestSchema);
  expect(br).toBeDefined();
  return br!.fieldViolations.map((v) => ({ field: v.field, reason: v.reason, description: v.description }));
}

describe("generated server validates requests (default on)", () => {
  let h: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => (h = await serve(gen)));
  afterAll(() => h?.close());

  it("exports the per-method validators map, only for methods with rules", () => {
    expect(Object.keys(gen.UsersRuntimeConfig.validation.validators).sort()).toEqual(["/vtest.v1.Users/Chat", "/vtest.v1.Users/Create", "/vtest.v1.Users/Upload"]);
  });

  it("answers INVALID_ARGUMENT with a BadRequest listing every field violation; the handler never runs", async () => {
    const err = await rejection(h.client.create({ email: "not an email", name: "x" }));
    expect(err.code).toBe(Status.INVALID_ARGUMENT);
    expect(err.message).toContain("invalid request: email: must be a valid email address; name: must be at least 2 characters");
    expect(fieldViolations(err)).toEqual([
      { field: "email", reason: "string.email", description: "must be a valid email address" },
      { field: "name", reason: "string.min_len", description: "must be at least 2 characters" },
    ]);
    expect(h.seen.create).toBe(0);
  });

  it("lets a valid request through", async () => {
    await expect(h.client.create({ email: "ada@example.com", name: "Ada" })).resolves.toMatchObject({ count: 1 });
    expect(h.seen.create).toBe(1);
  });

  it("validates each message of a client stream: the handler sees only those before the invalid one", async () => {
    const err = await rejection(h.client.upload([{ sku: "aaa" }, { sku: "bbb" }, { sku: "c" }, { sku: "ddd" }]));
    expect(err.code).toBe(Status.INVALID_ARGUMENT);
    expect(fieldViolations(err)).toEqual([{ field: "sku", reason: "string.min_len", description: "must be at least 3 characters" }]);
    expect(h.seen.upload).toEqual(["aaa", "bbb"]);
  });

  it("validates each message of a bidi stream", async () => {
    const got: string[] = [];
    const err = await rejection(
      (async () => {
        for await (const r of h.client.chat([{ sku: "abc" }, { sku: "" }])) got.push(r.sku);
      })(),
    );
    expect(err.code).toBe(Status.INVALID_ARGUMENT);
    expect(h.seen.chat).toEqual(["abc"]);
  });

  it("stays up and serves methods without rules unvalidated", async () => {
    await expect(h.client.echo({ text: "" })).resolves.toMatchObject({ text: "" });
    await expect(h.client.create({ email: "b@example.org", name: "Bo" })).resolves.toMatchObject({ count: 1 });
  });
});

describe("switching validation off", () => {
  it("at run time: validateRequests: false lets invalid requests reach the handler", async () => {
    const h = await serve(gen, { validateRequests: false });
    try {
      await expect(h.client.create({ email: "nope", name: "" })).resolves.toMatchObject({ count: 1 });
      expect(h.seen.create).toBe(1);
    } finally {
      await h.close();
    }
  });

  it("at generation time: validate=false emits no validators and no enforcement", async () => {
    expect(genOff.UsersRuntimeConfig.validation).toBeUndefined();
    const h = await serve(genOff);
    try {
      await expect(h.client.create({ email: "nope", name: "" })).resolves.toMatchObject({ count: 1 });
    } finally {
      await h.close();
    }
  });
});

describe("generated client validates before sending (opt-in)", () => {
  it("fails locally with the same error shape, without calling the server", async () => {
    const h = await serve(gen, { validateRequests: false }, { validateRequests: true });
    try {
      const err = await rejection(h.client.create({ email: "x", name: "Al" }));
      expect(err.code).toBe(Status.INVALID_ARGUMENT);
      expect(fieldViolations(err)).toEqual([{ field: "email", reason: "string.email", description: "must be a valid email address" }]);
      expect(h.seen.create).toBe(0);
      const streamErr = await rejection(h.client.upload([{ sku: "aaa" }, { sku: "b" }]));
      expect(streamErr.code).toBe(Status.INVALID_ARGUMENT);
      await expect(h.client.create({ email: "al@example.com", name: "Al" })).resolves.toMatchObject({ count: 1 });
      expect(h.seen.create).toBe(1);
    } finally {
      await h.close();
    }
  });

  it("is off by default: the server's check answers", async () => {
    const h = await serve(gen, { validateRequests: false });
    try {
      await expect(h.client.create({ email: "x", name: "" })).resolves.toMatchObject({ count: 1 });
    } finally {
      await h.close();
    }
  });
});
