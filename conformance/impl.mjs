// The `--impl` module of ../shared/protovalidate-conformance/check-reference.mjs:
// validates each case with the validators protoc-gen-grpckit generated for the
// cases' descriptor set (see generate.mjs; folder from GRPCKIT_CONFORMANCE_GEN,
// default tmp/conformance/gen). A message type without a generated validator
// has nothing to check: valid.
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const genDir = process.env.GRPCKIT_CONFORMANCE_GEN ?? join(root, "tmp/conformance/gen");

/** typeName -> generated validate function, loaded once. */
const validators = new Map();
const loaded = (async () => {
  for (const file of walk(genDir).filter((f) => f.endsWith("_pb.js"))) {
    const pb = await import(pathToFileURL(file).href);
    // A file without messages to check has no _validate.js; any other failure to load one is a bug.
    const validateFile = file.replace(/_pb\.js$/, "_validate.js");
    const v = existsSync(validateFile) ? await import(pathToFileURL(validateFile).href) : {};
    for (const [name, schema] of Object.entries(pb)) {
      if (!name.endsWith("Schema") || schema?.kind !== "message") continue;
      const fn = v[`validate${name.slice(0, -"Schema".length)}`];
      if (fn) validators.set(schema.typeName, fn);
    }
  }
})();

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

export default async function validate(_registry, typeName, message) {
  await loaded;
  const fn = validators.get(typeName);
  if (fn === undefined) return { kind: "valid" };
  const r = fn(message);
  switch (r.kind) {
    case "valid":
      return r;
    case "invalid":
      return { kind: "invalid", violations: r.violations.map((x) => ({ field: x.field, rule: x.rule, rule_id: x.ruleId, message: x.message, for_key: x.forKey })) };
    case "error":
      return { kind: "error", error: r.error.kind };
  }
}
