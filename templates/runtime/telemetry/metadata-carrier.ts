import type { Metadata } from "@grpc/grpc-js";
import type { TextMapGetter, TextMapSetter } from "@opentelemetry/api";

/**
 * Lets the global propagator (W3C `traceparent` / `tracestate`, `baggage`,
 * or whatever the application registered) write into and read from grpc-js
 * request metadata. Keys are lowercase, as gRPC metadata keys are.
 */
export const metadataSetter: TextMapSetter<Metadata> = {
  set(carrier, key, value) {
    carrier.set(key.toLowerCase(), value);
  },
};

/** Reads string metadata values; binary (`-bin`) entries are never propagation fields. */
export const metadataGetter: TextMapGetter<Metadata> = {
  keys(carrier) {
    return Object.keys(carrier.getMap());
  },
  get(carrier, key) {
    const values = carrier.get(key.toLowerCase()).filter((v): v is string => typeof v === "string");
    if (values.length === 0) return undefined;
    return values.length === 1 ? values[0] : values;
  },
};
