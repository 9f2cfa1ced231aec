import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** The repository root. */
export const root = fileURLToPath(new URL("../../", import.meta.url));
export const bin = (name: string) => join(root, "node_modules", ".bin", name);
/** The plugin executable, as users run it (needs `npm run build`). */
export const pluginBin = join(root, "bin", "protoc-gen-grpckit");
/** The well-known types shipped inside the npm `protoc` package. */
export const protocInclude = join(root, "node_modules", "protoc", "include");
/** A scratch folder for generated output, ignored by git. */
export const scratch = join(root, "tmp");
