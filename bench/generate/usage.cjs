// Preloaded (`node --require`) into each plugin process by bench/generate.mjs:
// at exit, writes the process's own resource usage (getrusage of the whole
// process, start-up included: CPU time in µs, max RSS in KiB) as JSON to the
// file named by GENBENCH_USAGE.
"use strict";
const { writeFileSync } = require("node:fs");

const to = process.env.GENBENCH_USAGE;
if (to !== undefined) {
  process.on("exit", () => {
    const u = process.resourceUsage();
    writeFileSync(to, JSON.stringify({ userUs: u.userCPUTime, systemUs: u.systemCPUTime, maxRssKiB: u.maxRSS }));
  });
}
