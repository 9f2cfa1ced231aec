import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { CodeGeneratorRequestSchema, FileDescriptorProtoSchema, type CodeGeneratorRequest, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";

const protoFileField = 15; // CodeGeneratorRequest.proto_file
const nameField = 1; // FileDescriptorProto.name

/**
 * Decode a CodeGeneratorRequest without decoding its files to generate twice.
 *
 * protoc and buf send each file to generate twice: in `proto_file` (options
 * with source retention stripped) and in `source_file_descriptors` (with
 * them), source info included both times, about half the request. protoplugin
 * and checkRequest read only the `source_file_descriptors` copy of such a
 * file, so here the `proto_file` entry of a file that has one is that same
 * object, and its own bytes are only scanned for its name (their top-level
 * fields are still checked to be well-formed). The other entries are decoded
 * as `fromBinary` would. On any decoding error, `fromBinary` of the whole
 * request decides (and throws its error).
 */
export function decodeRequest(bytes: Uint8Array): CodeGeneratorRequest {
  let request: CodeGeneratorRequest;
  try {
    request = decodeSharingSourceFiles(bytes);
  } catch {
    request = fromBinary(CodeGeneratorRequestSchema, bytes);
  }
  return request;
}

function decodeSharingSourceFiles(bytes: Uint8Array): CodeGeneratorRequest {
  const reader = new BinaryReader(bytes);
  const protoFiles: Uint8Array[] = [];
  const rest: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === protoFileField && wireType === WireType.LengthDelimited) {
      protoFiles.push(reader.bytes());
    } else {
      reader.skip(wireType, fieldNo);
      rest.push(bytes.subarray(start, reader.pos));
    }
  }
  // Every field but proto_file, in their order: a valid encoding of the request without its proto_file.
  const request = fromBinary(CodeGeneratorRequestSchema, concat(rest));
  const sourceFiles = new Map(request.sourceFileDescriptors.map((f) => [f.name, f]));
  request.protoFile = protoFiles.map((b): FileDescriptorProto => {
    const name = nameOf(b);
    return (name === undefined ? undefined : sourceFiles.get(name)) ?? fromBinary(FileDescriptorProtoSchema, b);
  });
  return request;
}

/** The `name` of an encoded FileDescriptorProto (the last one, as a decoder takes it), walking its top-level fields only. */
function nameOf(bytes: Uint8Array): string | undefined {
  const reader = new BinaryReader(bytes);
  let name: string | undefined;
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === nameField && wireType === WireType.LengthDelimited) name = reader.string();
    else reader.skip(wireType, fieldNo);
  }
  return name;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
