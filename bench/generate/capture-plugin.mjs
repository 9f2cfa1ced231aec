#!/usr/bin/env node
// A protoc plugin for bench/generate.mjs that generates nothing: it writes the
// CodeGeneratorRequest protoc sends it, byte for byte, to the file named by
// GENBENCH_CAPTURE, and answers with an empty response that declares the same
// features as protoc-gen-es (proto3 optional, editions), so that protoc
// accepts every input file.
import { readFileSync, writeFileSync } from "node:fs";
import { create, maximumEdition, minimumEdition, protoInt64, toBinary } from "@bufbuild/protobuf";
import { CodeGeneratorResponse_Feature, CodeGeneratorResponseSchema } from "@bufbuild/protobuf/wkt";

const to = process.env.GENBENCH_CAPTURE;
if (to === undefined) throw new Error("GENBENCH_CAPTURE is not set");
writeFileSync(to, readFileSync(0));
const features = CodeGeneratorResponse_Feature.PROTO3_OPTIONAL | CodeGeneratorResponse_Feature.SUPPORTS_EDITIONS;
const response = create(CodeGeneratorResponseSchema, { supportedFeatures: protoInt64.parse(features), minimumEdition, maximumEdition });
process.stdout.write(toBinary(CodeGeneratorResponseSchema, response));
