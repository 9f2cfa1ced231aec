// @grpckit/runtime/security as ESM and CommonJS consumers load it: each in
// its own node process resolving the package "exports" map (dist/esm,
// dist/cjs; needs `npm run build`), not the sources.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./support/paths.js";

const body = `
const tokens = security.createBearerTokens(async () => ({ token: "t", expiresAtMs: Date.now() + 60000 }));
const secure = security.withBearerToken(security.channelCredentialsFromFiles({}), tokens);
let refused = "";
try { security.withBearerToken(grpc.credentials.createInsecure(), tokens); } catch (e) { refused = e.constructor.name; }
console.log(JSON.stringify({
  exports: Object.keys(security).sort(),
  token: await tokens.token(),
  sameGrpc: secure instanceof grpc.ChannelCredentials,
  secure: secure._isSecure(),
  refused,
  noPeer: security.peerIdentity(security.authContextOf({})) === undefined,
}));`;

const run = (args: string[]) => JSON.parse(execFileSync(process.execPath, args, { cwd: root, encoding: "utf8" }));

describe("@grpckit/runtime/security from dist", () => {
  const expected = {
    exports: ["MalformedToken", "TokenFetchTimeout", "authContextOf", "bearerCallCredentials", "bearerTokenInterceptor", "channelCredentialsFromFiles", "createBearerTokens", "peerIdentity", "serverCredentialsFromFiles", "withBearerToken"],
    token: "t",
    sameGrpc: true,
    secure: true,
    refused: "TypeError",
    noPeer: true,
  };

  it("loads as ESM", () => {
    const script = `import * as security from "@grpckit/runtime/security"; import * as grpc from "@grpc/grpc-js";${body}`;
    expect(run(["--input-type=module", "-e", script])).toEqual(expected);
  });

  it("loads as CommonJS", () => {
    const script = `const security = require("@grpckit/runtime/security"); const grpc = require("@grpc/grpc-js"); (async () => {${body}})().catch((e) => { console.error(e); process.exit(1); });`;
    expect(run(["-e", script])).toEqual(expected);
  });

  it("declares types for every condition and for node10 (typesVersions)", () => {
    const pkg = JSON.parse(readFileSync(join(root, "templates/runtime/package.json"), "utf8"));
    const entry = pkg.exports["./security"];
    for (const file of [entry.import.types, entry.import.default, entry.require.types, entry.require.default, pkg.typesVersions["*"].security[0]]) {
      expect(existsSync(join(root, "templates/runtime", file)), file).toBe(true);
    }
  });
});
