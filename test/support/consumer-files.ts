/**
 * The files of a consumer project of the consumer matrix, other than the quick start's own
 * (examples/quickstart: buf.yaml, buf.gen.yaml, proto/, src/main.ts, which are copied as they are).
 * @internal
 */

/** The TypeScript resolution modes the matrix checks, and how a project of each kind is set up. */
export interface ConsumerMode {
  readonly name: string;
  /** package.json `type`. */
  readonly type: "commonjs" | "module";
  /** `import_extension` of both plugins. */
  readonly importExtension: "js" | "none";
  readonly compilerOptions: Readonly<Record<string, unknown>>;
  /** How the program is built to run: `tsc` emits dist/, `esbuild` bundles src/ into one file. */
  readonly build: "tsc" | "esbuild";
  /** TypeScript 7 supports the mode (it dropped `moduleResolution: node10`). */
  readonly ts7: boolean;
  /**
   * `target` of both plugins: `ts` (the default here: the project compiles the generated code), or
   * `js+dts` (the plugins' own default: the project type-checks against the `.d.ts` files and runs
   * the generated `.js` files as they are).
   */
  readonly target?: "ts" | "js+dts";
  /** `js_import_style` of both plugins with `target=js+dts` (CommonJS projects: `legacy_commonjs`). */
  readonly jsImportStyle?: "legacy_commonjs";
}

const common = { target: "ES2022", lib: ["ES2022"], strict: true, types: ["node"], skipLibCheck: false, rootDir: "src", outDir: "dist" };

export const consumerModes: readonly ConsumerMode[] = [
  { name: "cjs-nodenext", type: "commonjs", importExtension: "js", build: "tsc", ts7: true, compilerOptions: { ...common, module: "nodenext", moduleResolution: "nodenext" } },
  { name: "esm-nodenext", type: "module", importExtension: "js", build: "tsc", ts7: true, compilerOptions: { ...common, module: "nodenext", moduleResolution: "nodenext" } },
  { name: "cjs-node10", type: "commonjs", importExtension: "none", build: "tsc", ts7: false, compilerOptions: { ...common, module: "commonjs", moduleResolution: "node10" } },
  { name: "esm-bundler", type: "module", importExtension: "none", build: "esbuild", ts7: true, compilerOptions: { ...common, module: "preserve", moduleResolution: "bundler", noEmit: true } },
  { name: "esm-js-dts", type: "module", importExtension: "js", build: "tsc", ts7: true, target: "js+dts", compilerOptions: { ...common, module: "nodenext", moduleResolution: "nodenext" } },
  { name: "cjs-js-dts", type: "commonjs", importExtension: "js", build: "tsc", ts7: true, target: "js+dts", jsImportStyle: "legacy_commonjs", compilerOptions: { ...common, module: "nodenext", moduleResolution: "nodenext" } },
];

/** Messages with buf.validate rules and no service: they give signup_pb and signup_validate only. */
export const signupProto = `syntax = "proto3";
package signup.v1;
import "buf/validate/validate.proto";

message SignupRequest {
  string email = 1 [(buf.validate.field).string.email = true];
  string name = 2 [(buf.validate.field).string.min_len = 1];
}

message SignupResponse {
  string id = 1;
}
`;

/** A service whose request has rules (in another file): its server enforces them. */
export const signupServiceProto = `syntax = "proto3";
package signup.v1;
import "signup/v1/signup.proto";

service SignupService {
  rpc Signup(SignupRequest) returns (SignupResponse);
}
`;

/** Calls SignupService with a valid and an invalid request; exits non-zero when anything differs. */
export const validateCheck = `import { Server, ServerCredentials, credentials } from "@grpc/grpc-js";
import { strict as assert } from "node:assert";
import { BadRequestSchema, GrpcError, Status } from "@grpckit/runtime";
import { addSignupService, SignupServiceClient } from "./gen/signup/v1/signup_service_grpckit.js";
import { validateSignupRequest } from "./gen/signup/v1/signup_validate.js";
import { SignupRequestSchema } from "./gen/signup/v1/signup_pb.js";
import { create } from "@bufbuild/protobuf";

async function main(): Promise<void> {
  const local = validateSignupRequest(create(SignupRequestSchema, { email: "nope", name: "Ada" }));
  assert.equal(local.kind, "invalid");
  const server = new Server();
  addSignupService(server, { async signup(req) { return { id: req.email }; } });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const client = new SignupServiceClient(\`127.0.0.1:\${port}\`, credentials.createInsecure());
  try {
    const ok = await client.signup({ email: "ada@example.com", name: "Ada" }, { timeoutMs: 2000 });
    assert.equal(ok.id, "ada@example.com");
    const err = await client.signup({ email: "nope", name: "Ada" }, { timeoutMs: 2000 }).then(
      () => assert.fail("an invalid request was accepted"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof GrpcError && err.code === Status.INVALID_ARGUMENT, \`unexpected error \${String(err)}\`);
    const fields = err.findDetail(BadRequestSchema)?.fieldViolations.map((v) => v.field);
    assert.deepEqual(fields, ["email"]);
    console.log(\`validation       signup(bad email) -> \${err.codeName}: \${err.rawMessage}\`);
  } finally {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
`;
