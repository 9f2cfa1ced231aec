// peerIdentity on what grpc-js getAuthContext() returns, and the SAN parser
// on the forms Node prints (quoted JSON strings for values with special characters).
import { describe, expect, it } from "vitest";
import { authContextOf, peerIdentity } from "@grpckit/runtime/security";
import { parseSubjectAltNames } from "../templates/runtime/security/peer-identity.js";

describe("peerIdentity", () => {
  it("is undefined without a verified TLS peer (plaintext, unverified, older grpc-js)", () => {
    expect(peerIdentity(undefined)).toBeUndefined();
    expect(peerIdentity(null)).toBeUndefined();
    expect(peerIdentity({})).toBeUndefined();
    expect(peerIdentity({ transportSecurityType: "ssl" })).toBeUndefined();
  });

  it("authContextOf feature-detects getAuthContext (grpc-js < 1.14 has none)", () => {
    expect(authContextOf({})).toBeUndefined();
    expect(authContextOf({ getAuthContext: () => null })).toBeUndefined();
    const ctx = { transportSecurityType: "ssl" };
    expect(authContextOf({ getAuthContext: () => ctx })).toBe(ctx);
  });
});

describe("parseSubjectAltNames", () => {
  it("splits kinds in order and skips unknown ones", () => {
    expect(parseSubjectAltNames("DNS:a.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, URI:spiffe://td/ns/x, email:a@b, DirName:CN=x, DNS:b.example")).toEqual({
      dns: ["a.example", "b.example"],
      ip: ["127.0.0.1", "0:0:0:0:0:0:0:1"],
      uri: ["spiffe://td/ns/x"],
      email: ["a@b"],
    });
  });

  it("unquotes values Node prints as JSON strings (commas, quotes inside)", () => {
    expect(parseSubjectAltNames('URI:"urn:x, y\\"z", DNS:after')).toEqual({ dns: ["after"], uri: ['urn:x, y"z'], ip: [], email: [] });
  });

  it("stops at an unterminated quote instead of throwing", () => {
    expect(parseSubjectAltNames('DNS:ok, URI:"broken')).toEqual({ dns: ["ok"], uri: [], ip: [], email: [] });
    expect(parseSubjectAltNames("")).toEqual({ dns: [], uri: [], ip: [], email: [] });
  });
});
