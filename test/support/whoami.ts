// A raw grpc-js service (no generated code) that answers with what the
// server saw of the caller: its verified identity and its authorization
// header. For the security tests.
import { Metadata, Server, makeGenericClientConstructor, type ChannelCredentials, type ClientOptions, type ServerCredentials, type ServiceError } from "@grpc/grpc-js";
import { authContextOf, peerIdentity, type PeerIdentity } from "@grpckit/runtime/security";

const identity = (b: Buffer) => b;
const definition = {
  whoAmI: {
    path: "/grpckit.test.WhoAmI/WhoAmI",
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} as const;

/** What the handler saw. */
export interface Seen {
  readonly peer: PeerIdentity | undefined;
  readonly authorization: readonly string[];
}

export interface WhoAmIServer {
  readonly address: string;
  readonly port: number;
  /** One entry per handled call. */
  readonly seen: Seen[];
  stop(): Promise<void>;
}

/** Start the service on 127.0.0.1:0 with `credentials`. */
export async function startWhoAmI(credentials: ServerCredentials): Promise<WhoAmIServer> {
  const server = new Server();
  const seen: Seen[] = [];
  server.addService(definition, {
    whoAmI(call: { metadata: Metadata }, callback: (e: null, r: Buffer) => void) {
      const entry = { peer: peerIdentity(authContextOf(call)), authorization: call.metadata.get("authorization").map(String) };
      seen.push(entry);
      callback(null, Buffer.from(JSON.stringify(entry)));
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", credentials, (e, p) => (e ? reject(e) : resolve(p))));
  return {
    address: `127.0.0.1:${port}`,
    port,
    seen,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

const WhoAmIClient = makeGenericClientConstructor(definition, "WhoAmI");

/** The result of one call: the server's answer, the server certificate the client saw, or the error. */
export interface CallOutcome {
  readonly seen?: Seen;
  readonly server?: PeerIdentity | undefined;
  readonly error?: ServiceError;
}

/** One call on a fresh client (so a fresh connection), closed afterwards. */
export async function callWhoAmI(address: string, credentials: ChannelCredentials, options: ClientOptions = {}, deadlineMs = 5000): Promise<CallOutcome> {
  const client = new WhoAmIClient(address, credentials, options);
  try {
    return await new Promise<CallOutcome>((resolve) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const call: any = (client as any).whoAmI(Buffer.alloc(0), new Metadata(), { deadline: Date.now() + deadlineMs }, (error: ServiceError | null, reply?: Buffer) => {
        if (error) resolve({ error });
        else resolve({ seen: JSON.parse(reply!.toString()) as Seen, server: peerIdentity(authContextOf(call)) });
      });
    });
  } finally {
    client.close();
  }
}
