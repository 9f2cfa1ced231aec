import { Server, ServerCredentials, credentials } from "@grpc/grpc-js";

/** Start a grpc-js Server on 127.0.0.1 with an ephemeral port. */
export async function startServer(register: (server: Server) => void, options: ConstructorParameters<typeof Server>[0] = {}): Promise<{ server: Server; address: string; stop(): Promise<void> }> {
  const server = new Server(options);
  register(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    server,
    address: `127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

export const insecure = () => credentials.createInsecure();
