import { Server, ServerCredentials, credentials } from "@grpc/grpc-js";

/** Start a grpc-js Server on `host` (default 127.0.0.1; `[::1]` for IPv6 loopback) with an ephemeral port. */
export async function startServer(register: (server: Server) => void, options: ConstructorParameters<typeof Server>[0] = {}, host = "127.0.0.1"): Promise<{ server: Server; address: string; stop(): Promise<void> }> {
  const server = new Server(options);
  register(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:0`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    server,
    address: `${host}:${port}`,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

export const insecure = () => credentials.createInsecure();
