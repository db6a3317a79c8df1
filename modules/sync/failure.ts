/*
 * What an upload failure means for the data.
 *
 * - "transient": the cloud or the path to it is unwell (refused, reset,
 *   timeout, UNAVAILABLE, INTERNAL, …). Nothing is known to be wrong with the
 *   chunk: keep it, back off, retry it unchanged.
 * - "rejected": the cloud refused this chunk's content (INVALID_ARGUMENT,
 *   OUT_OF_RANGE). Retrying the same bytes can never succeed, so the uploader
 *   narrows the chunk down to the offending record(s).
 * - "too-large": the request is too big for the cloud or a proxy in front of
 *   it (RESOURCE_EXHAUSTED, HTTP 413). The same bytes will fail again: the
 *   uploader sends smaller requests, down to one record.
 *
 * Anything not known to be about the chunk is transient: PERMISSION_DENIED,
 * NOT_FOUND or UNIMPLEMENTED describe the part or the cloud, and discarding
 * readings for them would turn a configuration slip into data loss.
 * UNAUTHENTICATED reaching this layer means the rpc client's one
 * re-authentication already failed: also transient (credentials may be fixed).
 * RESOURCE_EXHAUSTED may also be a quota: narrowing costs a few smaller
 * requests then, and nothing is set aside on it alone (see chunk-uploader.ts).
 */

import { TransportError } from "../ports";
import { Code, codeName, RpcError } from "../rpc/status";

export type FailureKind = "transient" | "rejected" | "too-large";

export interface Failure {
  kind: FailureKind;
  /** gRPC code (UNAVAILABLE for transport failures that carry none). */
  code: number;
  /** Short text for logs and the status snapshot. */
  reason: string;
}

/** HTTP 413 Content Too Large, from the cloud or a proxy, with no grpc-status. */
const HTTP_CONTENT_TOO_LARGE = 413;

export function classifyFailure(error: unknown): Failure {
  if (error instanceof RpcError) {
    const code = error.code;
    let kind: FailureKind = "transient";
    // A transport-level RpcError (a response too large for the device, a reset, …) says nothing about the request.
    if (error.transport) kind = "transient";
    else if (code === Code.INVALID_ARGUMENT || code === Code.OUT_OF_RANGE) kind = "rejected";
    else if (code === Code.RESOURCE_EXHAUSTED || error.httpStatus === HTTP_CONTENT_TOO_LARGE)
      kind = "too-large";
    const via = error.transport ? ` (${error.transport})` : "";
    return { kind, code, reason: `${error.message}${via}` };
  }
  if (error instanceof TransportError) {
    const code = error.kind === "timeout" ? Code.DEADLINE_EXCEEDED : Code.UNAVAILABLE;
    return { kind: "transient", code, reason: `${codeName(code)}: ${error.kind}: ${error.message}` };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { kind: "transient", code: Code.UNKNOWN, reason: `UNKNOWN: ${message}` };
}
