import { isFieldSet } from "@bufbuild/protobuf";
import {
  Edition,
  EditionSchema,
  FieldDescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
  type ServiceDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { userErrorAt } from "../errors.js";
import type { DeclaredSymbol, SymbolTable } from "./symbols.js";

/** The editions @bufbuild/protobuf can build descriptors for (EDITION_UNSTABLE is accepted as the latest). */
const knownEditions: ReadonlySet<Edition> = new Set([
  Edition.EDITION_PROTO2,
  Edition.EDITION_PROTO3,
  Edition.EDITION_2023,
  Edition.EDITION_2024,
  Edition.EDITION_UNSTABLE,
]);

/** protoc's identifier check (it allows a leading digit), as @bufbuild/protobuf applies it. */
const identifier = /^[A-Za-z0-9_]+$/;

const editionName = (e: Edition) => EditionSchema.values.find((v) => v.number === e)?.name.replace(/^EDITION_/, "") ?? String(e);

/**
 * Check one FileDescriptorProto of a CodeGeneratorRequest before descriptors
 * are built from it: syntax and edition, names, members of messages, enums
 * and services, and that every type reference (field `type_name`, extension
 * `extendee`, method `input_type` / `output_type`) resolves to a declared
 * symbol of the right kind. Throws a UserError `<file>: <element>: <problem>`.
 */
export function checkFile(file: FileDescriptorProto, symbols: SymbolTable): void {
  checkSyntax(file);
  if (file.package !== "" && !file.package.split(".").every((part) => identifier.test(part))) {
    throw userErrorAt(file.name, undefined, `invalid package name ${JSON.stringify(file.package)}`);
  }
  const prefix = file.package === "" ? "" : `${file.package}.`;
  const ctx: FileContext = { file, symbols };
  for (const message of file.messageType) checkMessage(ctx, message, prefix + message.name);
  for (const e of file.enumType) checkEnum(ctx, e, prefix + e.name);
  for (const x of file.extension) checkField(ctx, x, `extension ${prefix}${x.name}`, undefined);
  for (const s of file.service) checkService(ctx, s, prefix + s.name);
}

interface FileContext {
  readonly file: FileDescriptorProto;
  readonly symbols: SymbolTable;
}

function checkSyntax(file: FileDescriptorProto): void {
  switch (file.syntax) {
    case "":
    case "proto2":
    case "proto3":
      return;
    case "editions":
      if (knownEditions.has(file.edition)) return;
      throw userErrorAt(
        file.name,
        undefined,
        `unsupported edition ${editionName(file.edition)} (supported: syntax "proto2", "proto3", and editions 2023 and 2024)`,
      );
    default:
      throw userErrorAt(
        file.name,
        undefined,
        `unsupported syntax ${JSON.stringify(file.syntax)} (supported: "proto2", "proto3", "editions"; an empty syntax means proto2)`,
      );
  }
}

function checkName(ctx: FileContext, element: string, name: string): void {
  if (!identifier.test(name)) throw userErrorAt(ctx.file.name, element, `invalid name ${JSON.stringify(name)}`);
}

function checkMessage(ctx: FileContext, message: DescriptorProto, fullName: string): void {
  checkName(ctx, `message ${fullName}`, message.name);
  const members = new Map<string, string>();
  const numbers = new Map<number, string>();
  const claim = (element: string, name: string) => {
    const other = members.get(name);
    if (other !== undefined) throw userErrorAt(ctx.file.name, element, `name "${name}" is already used by ${other}`);
    members.set(name, element);
  };
  for (const [i, oneof] of message.oneofDecl.entries()) {
    const element = `oneof ${fullName}.${oneof.name}`;
    checkName(ctx, element, oneof.name);
    claim(element, oneof.name);
    if (!message.field.some((f) => isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex) && f.oneofIndex === i)) {
      throw userErrorAt(ctx.file.name, element, "has no field");
    }
  }
  for (const field of message.field) {
    const element = `field ${fullName}.${field.name}`;
    checkField(ctx, field, element, message);
    claim(element, field.name);
    const other = numbers.get(field.number);
    if (other !== undefined) throw userErrorAt(ctx.file.name, element, `field number ${field.number} is already used by ${other}`);
    numbers.set(field.number, element);
  }
  if (message.options?.mapEntry === true) checkMapEntry(ctx, message, fullName);
  for (const x of message.extension) checkField(ctx, x, `extension ${fullName}.${x.name}`, undefined);
  for (const e of message.enumType) checkEnum(ctx, e, `${fullName}.${e.name}`);
  for (const nested of message.nestedType) checkMessage(ctx, nested, `${fullName}.${nested.name}`);
}

/** Field 1 a scalar key (not bytes, float or double), field 2 a singular value: what @bufbuild/protobuf asserts. */
function checkMapEntry(ctx: FileContext, entry: DescriptorProto, fullName: string): void {
  const T = FieldDescriptorProto_Type;
  const key = entry.field.find((f) => f.number === 1);
  const value = entry.field.find((f) => f.number === 2);
  const badKey = key === undefined || [T.MESSAGE, T.GROUP, T.ENUM, T.BYTES, T.FLOAT, T.DOUBLE].includes(key.type) || key.label === FieldDescriptorProto_Label.REPEATED;
  if (badKey || value === undefined || value.label === FieldDescriptorProto_Label.REPEATED) {
    throw userErrorAt(
      ctx.file.name,
      `message ${fullName}`,
      "is a map entry (option map_entry) but has no valid key field 1 (a scalar other than bytes, float, double) and singular value field 2",
    );
  }
}

function checkField(ctx: FileContext, field: FieldDescriptorProto, element: string, parent: DescriptorProto | undefined): void {
  checkName(ctx, element, field.name);
  const typeName = FieldDescriptorProto_Type[field.type] as string | undefined;
  if (typeName === undefined || (field.type as number) === 0) throw userErrorAt(ctx.file.name, element, `unknown field type ${field.type}`);
  if (FieldDescriptorProto_Label[field.label] === undefined) throw userErrorAt(ctx.file.name, element, `unknown field label ${field.label}`);
  if (field.number <= 0 || field.number > 536_870_911) {
    throw userErrorAt(ctx.file.name, element, `field number ${field.number} is out of range (1 to 536870911)`);
  }
  switch (field.type) {
    case FieldDescriptorProto_Type.MESSAGE:
    case FieldDescriptorProto_Type.GROUP:
      resolve(ctx, element, "type_name", field.typeName, "message");
      break;
    case FieldDescriptorProto_Type.ENUM:
      resolve(ctx, element, "type_name", field.typeName, "enum");
      break;
  }
  if (parent === undefined) {
    resolve(ctx, element, "extendee", field.extendee, "message");
  } else if (isFieldSet(field, FieldDescriptorProtoSchema.field.oneofIndex) && !(field.oneofIndex >= 0 && field.oneofIndex < parent.oneofDecl.length)) {
    throw userErrorAt(ctx.file.name, element, `oneof_index ${field.oneofIndex} does not name a oneof of the message (it has ${parent.oneofDecl.length})`);
  }
}

function checkEnum(ctx: FileContext, e: EnumDescriptorProto, fullName: string): void {
  const element = `enum ${fullName}`;
  checkName(ctx, element, e.name);
  if (e.value.length === 0) throw userErrorAt(ctx.file.name, element, "has no value");
  const names = new Set<string>();
  for (const v of e.value) {
    checkName(ctx, `enum value ${fullName}.${v.name}`, v.name);
    if (names.has(v.name)) throw userErrorAt(ctx.file.name, `enum value ${fullName}.${v.name}`, `name "${v.name}" is used twice in the enum`);
    names.add(v.name);
  }
}

function checkService(ctx: FileContext, s: ServiceDescriptorProto, fullName: string): void {
  checkName(ctx, `service ${fullName}`, s.name);
  const names = new Set<string>();
  for (const m of s.method) {
    const element = `rpc ${fullName}.${m.name}`;
    checkName(ctx, element, m.name);
    if (names.has(m.name)) throw userErrorAt(ctx.file.name, element, `name "${m.name}" is used twice in the service`);
    names.add(m.name);
    resolve(ctx, element, "input_type", m.inputType, "message");
    resolve(ctx, element, "output_type", m.outputType, "message");
  }
}

/** A type reference (`.pkg.Name`, or without the leading dot, as @bufbuild/protobuf reads it) must name a `kind`. */
function resolve(ctx: FileContext, element: string, what: string, reference: string, kind: DeclaredSymbol["kind"]): void {
  const found = ctx.symbols.get(reference.startsWith(".") ? reference.substring(1) : reference);
  if (found === undefined) {
    const shown = reference === "" ? "is empty" : `${JSON.stringify(reference)} is not defined in the request`;
    throw userErrorAt(ctx.file.name, element, `${what} ${shown} (expected a ${kind})`);
  }
  if (found.kind !== kind) {
    throw userErrorAt(ctx.file.name, element, `${what} ${JSON.stringify(reference)} is a ${found.kind} (in ${found.file}), not a ${kind}`);
  }
}
