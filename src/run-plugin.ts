import { toBinary, create, protoInt64 } from "@bufbuild/protobuf";
import {
  CodeGeneratorResponse_Feature,
  Edition,
  CodeGeneratorResponseSchema,
  type CodeGeneratorRequest,
  type CodeGeneratorResponse,
} from "@bufbuild/protobuf/wkt";
import { protocGenGrpckit } from "./plugin.js";
import { isUserError } from "./errors.js";
import { checkStandardOptions } from "./options/standard-options.js";
import { checkRequest } from "./request/check-request.js";
import { descriptorUserError } from "./request/descriptor-errors.js";
import { decodeRequest } from "./request/decode-request.js";

/**
 * Run the plugin on one CodeGeneratorRequest (binary) and return the binary
 * CodeGeneratorResponse.
 *
 * Errors in the input (undecodable bytes, descriptors that cannot be built,
 * a bad option, an unsupported construct) become the response's `error`
 * field, with no files and no stack: that is the plugin contract protoc and
 * buf expect (they print the message and fail; the plugin exits 0). The
 * request is checked (checkRequest) before protoplugin builds descriptors,
 * and descriptor-building errors that slip through are mapped to messages
 * naming the file (descriptorUserError). Anything else is a bug in the
 * plugin and is thrown, with its stack.
 */
export function generate(requestBytes: Uint8Array): Uint8Array {
  let request: CodeGeneratorRequest;
  try {
    request = decodeRequest(requestBytes);
  } catch (err) {
    return errorResponse(`malformed CodeGeneratorRequest on stdin: ${String(err instanceof Error ? err.message : err)}`);
  }
  let response: CodeGeneratorResponse;
  try {
    checkStandardOptions(request.parameter);
    checkRequest(request);
    response = protocGenGrpckit.run(request);
  } catch (err) {
    const userError = isUserError(err) ? err : descriptorUserError(err, request);
    if (userError === undefined) throw err;
    return errorResponse(userError.message);
  }
  return toBinary(CodeGeneratorResponseSchema, response);
}

/**
 * A response carrying an input error. It declares the same features as a
 * successful one (proto3 optional, editions), or protoc would add a
 * misleading "does not support optional fields" error to ours.
 */
function errorResponse(message: string): Uint8Array {
  return toBinary(
    CodeGeneratorResponseSchema,
    create(CodeGeneratorResponseSchema, {
      error: message,
      supportedFeatures: protoInt64.parse(CodeGeneratorResponse_Feature.PROTO3_OPTIONAL | CodeGeneratorResponse_Feature.SUPPORTS_EDITIONS),
      minimumEdition: Edition.EDITION_PROTO2,
      maximumEdition: Edition.EDITION_2024,
    }),
  );
}

/**
 * The executable's entry point: `--version` prints the version; otherwise a
 * CodeGeneratorRequest is read from stdin and the response written to stdout.
 * Exit status 0 whenever a response was written (including one carrying an
 * input error), 1 for a plugin bug (stack on stderr).
 */
export function runPlugin(): void {
  const args = process.argv.slice(2);
  if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
    process.stdout.write(`${protocGenGrpckit.name} ${protocGenGrpckit.version}\n`);
    return;
  }
  if (args.length !== 0) {
    process.stderr.write(
      `${protocGenGrpckit.name} reads a google.protobuf.compiler.CodeGeneratorRequest on stdin and writes a CodeGeneratorResponse to stdout; run it through protoc or buf\n`,
    );
    process.exitCode = 1;
    return;
  }
  const chunks: Buffer[] = [];
  process.stdin.on("data", (chunk: Buffer) => chunks.push(chunk));
  process.stdin.on("end", () => {
    try {
      process.stdout.write(generate(Buffer.concat(chunks)));
    } catch (err) {
      process.stderr.write(`${protocGenGrpckit.name}: internal error, please report it: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    }
  });
}
