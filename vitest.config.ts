import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

export default defineConfig({
  resolve: {
    alias: {
      // Tests run the runtime from source; the published package resolves it from dist.
      // More specific first: a string alias also matches its subpaths.
      "@grpckit/runtime/security": fileURLToPath(new URL("./templates/runtime/security/index.ts", import.meta.url)),
      "@grpckit/runtime/telemetry": fileURLToPath(new URL("./templates/runtime/telemetry/index.ts", import.meta.url)),
      "@grpckit/runtime/production": fileURLToPath(new URL("./templates/runtime/production/index.ts", import.meta.url)),
      "@grpckit/runtime/validate": fileURLToPath(new URL("./templates/runtime/validate/index.ts", import.meta.url)),
      "@grpckit/runtime": fileURLToPath(new URL("./templates/runtime/index.ts", import.meta.url)),
    },
  },
  test: {
    include: ["test/**/*.test.ts", "templates/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
