// Makes sure the real `buf` (npm @bufbuild/buf, pinned) is installed for the tests.
//
// @bufbuild/buf is not a devDependency: its optional per-platform packages
// (darwin, win32, armv7) are not on every registry mirror, and a lock file
// without them makes `npm ci` refuse to install. So `npm test` installs it here
// when it is missing (`npm install --no-save`, no lock file change), then
// checks that the binary really runs (npm 11 skips install scripts; the
// platform package ships the binary, so none is needed).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const version = "1.75.0";
const buf = join("node_modules", ".bin", "buf");

function installedVersion() {
  if (!existsSync(buf)) return undefined;
  try {
    return execFileSync(buf, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

if (installedVersion() !== version) {
  console.log(`installing @bufbuild/buf@${version} (not a devDependency: see scripts/ensure-buf.mjs)`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  execFileSync(npm, ["install", "--no-save", "--no-audit", "--no-fund", `@bufbuild/buf@${version}`], { stdio: "inherit" });
  const got = installedVersion();
  if (got !== version) throw new Error(`buf ${version} did not install correctly (buf --version gave ${got ?? "nothing"})`);
}
