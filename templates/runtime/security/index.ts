/**
 * Transport security and per-call auth for protoc-gen-grpckit clients and
 * servers, on grpc-js credentials: TLS/mTLS credentials from PEM files
 * (reloaded without a restart), the verified peer identity of a call, and
 * bearer tokens as call credentials. Depends on `@grpc/grpc-js` only.
 * See docs/security.md.
 */
export { serverCredentialsFromFiles, channelCredentialsFromFiles, type ServerTlsFiles, type ChannelTlsFiles } from "./tls-files.js";
export { authContextOf, peerIdentity, type AuthContextLike, type PeerIdentity, type SubjectAltNames } from "./peer-identity.js";
export {
  createBearerTokens,
  MalformedToken,
  TokenFetchTimeout,
  type AccessToken,
  type BearerTokens,
  type BearerTokensOptions,
  type TokenSource,
} from "./bearer-tokens.js";
export { bearerCallCredentials, bearerTokenInterceptor, withBearerToken, type BearerTokenInterceptorOptions } from "./call-auth.js";
