import type { DescFile } from "@bufbuild/protobuf";
import { userErrorAt } from "../errors.js";
import type { ServiceModel } from "./service-model.js";

/**
 * Members of every generated client class, and `then` (a client with a `then`
 * method is a thenable: `await`ing it or returning it from an async function
 * would call the rpc); an rpc whose local name equals one of these gets `$`
 * appended to its client method name (see `MethodModel.clientName`).
 */
export const reservedClientMembers: readonly string[] = ["close", "getChannel", "transport", "then"];

/**
 * Check that every generated name is unique in its scope: the declarations a
 * file exports, and the methods of a client class. Throws a UserError naming
 * the file, the element and the colliding names.
 */
export function checkNames(file: DescFile, services: readonly ServiceModel[]): void {
  const exported = new Map<string, string>();
  for (const s of services) {
    for (const name of Object.values(s.names)) {
      const owner = exported.get(name);
      if (owner !== undefined) {
        throw userErrorAt(
          file.proto.name,
          `service ${s.desc.typeName}`,
          `generated name "${name}" collides with the same name generated for service ${owner}; rename one of the services`,
        );
      }
      exported.set(name, s.desc.typeName);
    }
    checkMethodNames(file, s);
  }
}

function checkMethodNames(file: DescFile, s: ServiceModel): void {
  const seen = new Map<string, string>();
  for (const m of s.methods) {
    const element = `rpc ${s.desc.typeName}.${m.desc.name}`;
    const other = seen.get(m.localName);
    if (other !== undefined) {
      throw userErrorAt(
        file.proto.name,
        element,
        `method name "${m.localName}" is also the generated name of rpc ${other}; rename one of the rpcs`,
      );
    }
    seen.set(m.localName, m.desc.name);
  }
}
