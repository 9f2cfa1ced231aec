import { Metadata } from "@grpc/grpc-js";
import { GrpcError, Status, type HandlerContext } from "@grpckit/runtime";
import { waitFor, type EchoModule } from "./echo.js";

/** The four method kinds, named by the echo fixture's rpc for each. */
export type EchoKind = "echo" | "expand" | "collect" | "chat";
export const echoKinds: readonly EchoKind[] = ["echo", "expand", "collect", "chat"];

/** Text a plain (non-GrpcError) handler error carries; must never reach the client. */
export const secretText = "password=hunter2 in /srv/app/db.ts";

/** The status a handler asked to fail with `x-behaviour: grpc-error` throws. */
export const handlerStatus = { code: Status.FAILED_PRECONDITION, message: "précondition: 100% failed, retry later" };

/** What a handler saw of one call. */
export interface SeenCall {
  readonly path: string;
  readonly requestMetadata: Metadata;
  readonly deadline: number | undefined;
}

/**
 * An echo implementation whose behaviour the client picks with request
 * metadata `x-behaviour`: `ok` (default), `grpc-error`, `plain-error`, or
 * `fail-mid` (streams: fail after the first response). Every call sets the
 * response header `x-echo` (the request's `x-req`), the binary header
 * `x-echo-bin` (the request's `x-req-bin`) and the trailer `x-trailer: t`.
 */
export function createBehaviourImpl(seen: SeenCall[]) {
  const prepare = (ctx: HandlerContext): string => {
    seen.push({ path: ctx.path, requestMetadata: ctx.requestMetadata, deadline: ctx.deadline });
    const md = ctx.requestMetadata;
    const behaviour = String(md.get("x-behaviour")[0] ?? "ok");
    ctx.responseHeader.set("x-echo", String(md.get("x-req")[0] ?? ""));
    const bin = md.get("x-req-bin")[0];
    if (bin !== undefined) ctx.responseHeader.set("x-echo-bin", bin);
    ctx.responseTrailer.set("x-trailer", "t");
    if (behaviour === "grpc-error") {
      const trailers = new Metadata();
      trailers.set("x-detail", "d");
      throw new GrpcError(handlerStatus.code, handlerStatus.message, { metadata: trailers });
    }
    if (behaviour === "plain-error") throw new Error(secretText);
    return behaviour;
  };
  const failMid = () => new GrpcError(Status.ABORTED, "failed mid-stream");
  return {
    async echo(req: { text: string }, ctx: HandlerContext) {
      prepare(ctx);
      return { text: req.text };
    },
    async *expand(req: { text: string; count: number }, ctx: HandlerContext) {
      const behaviour = prepare(ctx);
      for (let i = 0; i < req.count; i++) {
        yield { text: req.text, index: i };
        if (behaviour === "fail-mid") throw failMid();
      }
    },
    async collect(reqs: AsyncIterable<{ text: string }>, ctx: HandlerContext) {
      const texts: string[] = [];
      for await (const r of reqs) texts.push(r.text);
      prepare(ctx);
      return { count: texts.length, joined: texts.join(",") };
    },
    async *chat(reqs: AsyncIterable<{ text: string }>, ctx: HandlerContext) {
      const behaviour = prepare(ctx);
      for await (const r of reqs) {
        yield { text: r.text };
        if (behaviour === "fail-mid") throw failMid();
      }
    },
  };
}

/** The outcome of one call as the client saw it. */
export interface CallOutcome {
  /** Response texts (for `collect`: the joined text). */
  readonly responses: string[];
  readonly error: GrpcError | undefined;
  /** Every `onHeader` call, in order. */
  readonly headers: Metadata[];
  /** Every `onTrailer` call, in order. */
  readonly trailers: Metadata[];
}

/**
 * Make one call of the given kind through the generated client, with
 * requests "a" and "b" (unary / server-streaming: one request "a" asking
 * for 2 responses), collecting responses, the error, headers and trailers.
 */
export async function callKind(client: EchoModule, kind: EchoKind, options: object = {}): Promise<CallOutcome> {
  const headers: Metadata[] = [];
  const trailers: Metadata[] = [];
  const responses: string[] = [];
  const opts = { ...options, onHeader: (h: Metadata) => headers.push(h), onTrailer: (t: Metadata) => trailers.push(t) };
  const requests = [{ text: "a" }, { text: "b" }];
  let error: GrpcError | undefined;
  try {
    switch (kind) {
      case "echo":
        responses.push((await client.echo({ text: "a" }, opts)).text);
        break;
      case "expand":
        for await (const r of client.expand({ text: "a", count: 2 }, opts)) responses.push(r.text);
        break;
      case "collect":
        responses.push((await client.collect(requests, opts)).joined);
        break;
      case "chat":
        for await (const r of client.chat(requests, opts)) responses.push(r.text);
        break;
    }
  } catch (err) {
    if (!(err instanceof GrpcError)) throw err;
    error = err;
  }
  // Every call ends with a status, so onTrailer must fire; for streams it may come just after the last message.
  await waitFor(() => trailers.length > 0, 2000, `onTrailer of ${kind}`);
  return { responses, error, headers, trailers };
}
