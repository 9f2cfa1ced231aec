import { connect, type Socket } from "node:net";

/**
 * A minimal HTTP/2 (h2c, RFC 9113) gRPC client over a plain TCP socket, for
 * tests that need frame sequences no real client produces: a RST_STREAM
 * without a preceding END_STREAM, or END_STREAM and RST_STREAM in one TCP
 * segment. Headers are sent as HPACK literals without indexing (RFC 7541
 * section 6.2.2); server frames are read only to acknowledge SETTINGS and to
 * record RST_STREAM and HEADERS per stream. Not a general-purpose client.
 */
export class RawH2Connection {
  private buffered = Buffer.alloc(0);
  private nextStreamId = 1;
  /** Frame types received per stream id (1 = HEADERS, 3 = RST_STREAM), in order. */
  readonly received = new Map<number, number[]>();

  private constructor(
    private readonly socket: Socket,
    private readonly authority: string,
  ) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
  }

  /** Connect to `host:port` (127.0.0.1) and send the connection preface and an empty SETTINGS frame. */
  static open(address: string): Promise<RawH2Connection> {
    const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () => {
        socket.off("error", reject);
        socket.setNoDelay(true);
        socket.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"), frame(FrameType.SETTINGS, 0, 0)]));
        resolve(new RawH2Connection(socket, address));
      });
      socket.once("error", reject);
    });
  }

  /**
   * Open a gRPC call to `path` (e.g. "/demo.v1.EchoService/Collect") and send
   * each message as one length-prefixed DATA frame, without END_STREAM. Returns
   * the stream id.
   */
  startCall(path: string, messages: readonly Uint8Array[]): number {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const headers: [string, string][] = [
      [":method", "POST"],
      [":scheme", "http"],
      [":path", path],
      [":authority", this.authority],
      ["content-type", "application/grpc"],
      ["te", "trailers"],
    ];
    const block = Buffer.concat(headers.map(([name, value]) => Buffer.concat([Buffer.of(0), hpackString(name), hpackString(value)])));
    this.socket.write(Buffer.concat([frame(FrameType.HEADERS, Flag.END_HEADERS, id, block), ...messages.map((m) => frame(FrameType.DATA, 0, id, grpcMessage(m)))]));
    return id;
  }

  /** RST_STREAM with `errorCode` (default CANCEL, 0x8), not preceded by END_STREAM. */
  reset(id: number, errorCode = ErrorCode.CANCEL): void {
    this.socket.write(rstStream(id, errorCode));
  }

  /** An empty DATA frame with END_STREAM and a RST_STREAM CANCEL in one socket write (one TCP segment on loopback). */
  endAndReset(id: number): void {
    this.socket.write(Buffer.concat([frame(FrameType.DATA, Flag.END_STREAM, id), rstStream(id, ErrorCode.CANCEL)]));
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 9) {
      const length = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < 9 + length) return;
      const [type, flags, id] = [this.buffered[3], this.buffered[4], this.buffered.readUInt32BE(5) & 0x7fffffff];
      this.buffered = this.buffered.subarray(9 + length);
      if (type === FrameType.SETTINGS && (flags & Flag.ACK) === 0) this.socket.write(frame(FrameType.SETTINGS, Flag.ACK, 0));
      if (type === FrameType.HEADERS || type === FrameType.RST_STREAM) this.received.set(id, [...(this.received.get(id) ?? []), type]);
    }
  }
}

const FrameType = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4 } as const;
const Flag = { ACK: 0x1, END_STREAM: 0x1, END_HEADERS: 0x4 } as const;
const ErrorCode = { CANCEL: 0x8 } as const;

function frame(type: number, flags: number, streamId: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

function rstStream(id: number, errorCode: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(errorCode);
  return frame(FrameType.RST_STREAM, 0, id, payload);
}

/** An HPACK string literal, not Huffman-coded (RFC 7541 section 5.2); names and values here are < 127 bytes. */
function hpackString(s: string): Buffer {
  const bytes = Buffer.from(s, "latin1");
  if (bytes.length >= 127) throw new RangeError(`header too long for this test client: ${s}`);
  return Buffer.concat([Buffer.of(bytes.length), bytes]);
}

/** A gRPC length-prefixed message (uncompressed). */
function grpcMessage(message: Uint8Array): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}
