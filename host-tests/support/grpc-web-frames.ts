// Building gRPC-web bodies for the rpc tests (both lanes): ASCII text as bytes, and one frame.

/** ASCII text as bytes (no TextEncoder needed). */
export const enc = (s: string): Uint8Array => {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
};

/** One gRPC-web frame: flags, 4-byte big-endian length, payload. */
export function frame(flags: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = flags;
  out[1] = payload.length >>> 24;
  out[2] = (payload.length >>> 16) & 0xff;
  out[3] = (payload.length >>> 8) & 0xff;
  out[4] = payload.length & 0xff;
  out.set(payload, 5);
  return out;
}
