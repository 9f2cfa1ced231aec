export { protocGenGrpckit } from "./plugin.js";
export { generate } from "./run-plugin.js";
export type { GrpckitOptions } from "./options/parse-options.js";
