// `npm run example`: generate code for examples/quickstart/proto with the real
// protoc, protoc-gen-es and this plugin (target=js+dts), then run the
// quickstart server and client.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const example = join("examples", "quickstart");
const out = join(example, "gen");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const bin = (name) => join("node_modules", ".bin", name);
execFileSync(
  bin("protoc"),
  [
    `-I${join(example, "proto")}`,
    `--plugin=protoc-gen-es=${bin("protoc-gen-es")}`,
    `--es_out=${out}`,
    "--es_opt=target=js+dts,import_extension=js",
    `--plugin=protoc-gen-grpckit=${join("bin", "protoc-gen-grpckit")}`,
    `--grpckit_out=${out}`,
    "--grpckit_opt=target=js+dts,import_extension=js",
    "greet/v1/greet.proto",
  ],
  { stdio: "inherit" },
);
console.log(`generated ${out}/greet/v1/greet_pb.js and greet_grpckit.js`);
await import(`../${example}/main.mjs`);
