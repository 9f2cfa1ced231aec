import type { DescriptorProto, FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { userErrorAt } from "../errors.js";

/** What a fully-qualified proto name (without the leading dot) declares, and where. */
export interface DeclaredSymbol {
  readonly kind: "message" | "enum" | "service" | "extension";
  /** The proto file declaring it, e.g. `foo/v1/foo.proto`. */
  readonly file: string;
  /** For messages: the descriptor (map entries are checked through it). */
  readonly message?: DescriptorProto;
}

/** Every top-level and nested symbol of the request's files, by full name (e.g. `foo.v1.Req.Inner`). */
export type SymbolTable = ReadonlyMap<string, DeclaredSymbol>;

/**
 * Collect the symbols of all files, in order. Throws a UserError naming both
 * files when a full name is declared twice (protoc rejects that; generated
 * code would export the same name twice).
 */
export function collectSymbols(files: readonly FileDescriptorProto[]): SymbolTable {
  const table = new Map<string, DeclaredSymbol>();
  const add = (file: FileDescriptorProto, name: string, symbol: DeclaredSymbol) => {
    const previous = table.get(name);
    if (previous !== undefined) {
      const where = previous.file === file.name ? "earlier in the same file" : `in ${previous.file}`;
      throw userErrorAt(file.name, `${symbol.kind} ${name}`, `"${name}" is already defined (as a ${previous.kind}) ${where}`);
    }
    table.set(name, symbol);
  };
  for (const file of files) {
    const prefix = file.package === "" ? "" : `${file.package}.`;
    const addMessages = (messages: readonly DescriptorProto[], scope: string) => {
      for (const message of messages) {
        const name = scope + message.name;
        add(file, name, { kind: "message", file: file.name, message });
        for (const e of message.enumType) add(file, `${name}.${e.name}`, { kind: "enum", file: file.name });
        for (const x of message.extension) add(file, `${name}.${x.name}`, { kind: "extension", file: file.name });
        addMessages(message.nestedType, `${name}.`);
      }
    };
    addMessages(file.messageType, prefix);
    for (const e of file.enumType) add(file, prefix + e.name, { kind: "enum", file: file.name });
    for (const s of file.service) add(file, prefix + s.name, { kind: "service", file: file.name });
    for (const x of file.extension) add(file, prefix + x.name, { kind: "extension", file: file.name });
  }
  return table;
}
