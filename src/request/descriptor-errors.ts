import type { CodeGeneratorRequest } from "@bufbuild/protobuf/wkt";
import { UserError } from "../errors.js";

/**
 * The errors @bufbuild/protobuf (`createFileRegistry`) and protoplugin
 * (`createSchema`) throw for descriptors they cannot build. checkRequest
 * reports these cases first; this mapping is the safety net for anything it
 * misses, so that bad input never reads as a plugin bug.
 */
const descriptorErrors: readonly RegExp[] = [
  /^Unable to resolve \S+, imported by \S+$/,
  /^Cannot find \S+, imported by \S+$/,
  /^\S+: unsupported (edition|syntax)\b/,
  /^\S+: invalid [a-z ]+ name "/,
  /^invalid (FieldDescriptorProto|MethodDescriptorProto): /,
  /^files_to_generate missing in the request: /,
  /^feature default for edition \S+ not found$/,
];

/** Frames of the code that builds descriptors from a request. */
const buildingFrames = /\b(createSchema|getFilesToGenerate|createFileRegistry|buildFileRegistry|addFile)\b/;

/**
 * When `err` is one of the descriptor-building errors (by message, thrown
 * from the registry or schema code), a UserError with its message, prefixed
 * with the file it names or, for a bare type name, the file referring to it.
 * Otherwise undefined: the error is a bug and keeps its stack.
 */
export function descriptorUserError(err: unknown, request: CodeGeneratorRequest): UserError | undefined {
  if (!(err instanceof Error) || !buildingFrames.test(err.stack ?? "")) return undefined;
  const message = err.message;
  if (!descriptorErrors.some((re) => re.test(message))) return undefined;
  const named = /^(\S+\.proto)\b/.exec(message)?.[1] ?? /, imported by (\S+)$/.exec(message)?.[1];
  if (named !== undefined) return new UserError(message.startsWith(named) ? message : `${named}: ${message}`);
  const reference = /(?:type_name|extendee|output_type|input_type) (\S+) not found/.exec(message)?.[1];
  const file = reference === undefined ? undefined : fileReferring(request, reference);
  return new UserError(`${file ?? "CodeGeneratorRequest"}: ${message}`);
}

/** The first file whose descriptor text mentions the type reference (a last-resort locator). */
function fileReferring(request: CodeGeneratorRequest, reference: string): string | undefined {
  const mentions = (value: unknown): boolean => {
    if (value === reference) return true;
    if (Array.isArray(value)) return value.some(mentions);
    if (value !== null && typeof value === "object") return Object.values(value).some(mentions);
    return false;
  };
  return request.protoFile.find((f) => mentions(f.messageType) || mentions(f.service) || mentions(f.extension))?.name;
}
