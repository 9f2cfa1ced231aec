import { afterAll, describe, expect, it } from "vitest";
import { defaultOptions, parseOptions } from "../src/options/parse-options.js";
import { fixtures } from "./support/fixture.js";
import { insecure, startServer } from "./support/grpc.js";
import { readTree, runProtoc } from "./support/protoc.js";

const opts = (entries: Record<string, string>) => Object.entries(entries).map(([key, value]) => ({ key, value }));

describe("parseOptions", () => {
  it("gives the documented defaults for no options, frozen", () => {
    const o = parseOptions([]);
    expect(o).toEqual(defaultOptions);
    expect(o).toMatchObject({ server: true, client: true, runtimeImport: "@grpckit/runtime" });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it("parses booleans: empty, true and 1 are true; false and 0 are false", () => {
    for (const v of ["", "true", "1"]) expect(parseOptions(opts({ server: v })).server).toBe(true);
    for (const v of ["false", "0"]) expect(parseOptions(opts({ client: v })).client).toBe(false);
  });

  it("rejects a bad boolean naming the key and the value", () => {
    for (const v of ["yes", "TRUE", "2", "off"]) {
      expect(() => parseOptions(opts({ server: v }))).toThrow(`option "server" takes true or false, not "${v}"`);
    }
  });

  it("rejects an unknown key naming it and listing the known ones", () => {
    expect(() => parseOptions(opts({ bogus: "1" }))).toThrow(/unknown option "bogus" \(protoc-gen-grpckit options: .*runtime_import.*server/);
  });

  it("rejects a repeated key naming it", () => {
    expect(() => parseOptions([{ key: "client", value: "true" }, { key: "client", value: "true" }])).toThrow('option "client" is given more than once');
  });

  it("rejects server=false with client=false", () => {
    expect(() => parseOptions(opts({ server: "false", client: "false" }))).toThrow(/leave nothing to generate/);
  });

  it("takes a module specifier for runtime_import and rejects blanks, spaces and quotes", () => {
    expect(parseOptions(opts({ runtime_import: "@acme/grpc-runtime" })).runtimeImport).toBe("@acme/grpc-runtime");
    expect(() => parseOptions(opts({ runtime_import: "../runtime/index.js" }))).toThrow(/package specifier/);
    expect(() => parseOptions(opts({ runtime_import: "/abs/runtime" }))).toThrow(/package specifier/);
    for (const v of ["", " ", "a b", 'x"y', "x'y", "x`y", "a\\b"]) {
      expect(() => parseOptions(opts({ runtime_import: v }))).toThrow(/option "runtime_import" takes a package specifier/);
    }
  });

  it("does not let one parse change the defaults of the next", () => {
    parseOptions(opts({ server: "false", runtime_import: "x" }));
    expect(parseOptions([])).toEqual(defaultOptions);
  });
});

describe("output shape per option", () => {
  const generate = (opt: string) => runProtoc({ includes: [fixtures], files: ["demo/v1/echo.proto"], grpckitOpt: opt, esOpt: "target=ts" });
  const serverOnly = generate("target=ts,client=false");
  const clientOnly = generate("target=ts,server=false");
  const text = (out: string) => readTree(out).get("demo/v1/echo_grpckit.ts") ?? "";
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of stops) await stop();
  });

  it("client=false: the definition and the server side only", async () => {
    const mod = await import(`${serverOnly}/demo/v1/echo_grpckit.ts`);
    expect(Object.keys(mod).sort()).toEqual(expect.arrayContaining(["EchoServiceDefinition", "addEchoService", "addPartialEchoService"]));
    expect(mod.EchoServiceClient).toBeUndefined();
    expect(text(serverOnly)).not.toMatch(/class EchoServiceClient|createClientTransport/);
    expect(text(serverOnly)).toContain("export interface EchoServiceServer");
  });

  it("server=false: the definition and the client only", async () => {
    const mod = await import(`${clientOnly}/demo/v1/echo_grpckit.ts`);
    expect(Object.keys(mod)).toEqual(expect.arrayContaining(["EchoServiceDefinition", "EchoServiceClient"]));
    expect(mod.addEchoService).toBeUndefined();
    expect(mod.addPartialEchoService).toBeUndefined();
    expect(text(clientOnly)).not.toMatch(/EchoServiceServer|addServiceImplementation/);
  });

  it("a client generated with server=false talks to a server generated with client=false", async () => {
    const server = await import(`${serverOnly}/demo/v1/echo_grpckit.ts`);
    const client = await import(`${clientOnly}/demo/v1/echo_grpckit.ts`);
    const s = await startServer((srv) => server.addPartialEchoService(srv, { echo: async (r: { text: string }) => ({ text: `${r.text}!` }) }));
    stops.push(s.stop);
    const c = new client.EchoServiceClient(s.address, insecure());
    try {
      expect((await c.echo({ text: "hi" })).text).toBe("hi!");
    } finally {
      c.close();
    }
  });

  it("runtime_import replaces every import of the runtime", () => {
    const out = text(generate("target=ts,runtime_import=@acme/grpc-runtime"));
    expect(out).toMatch(/from "@acme\/grpc-runtime"/);
    expect(out).not.toContain("@grpckit/runtime");
    expect(text(clientOnly)).toMatch(/from "@grpckit\/runtime"/);
  });
});
