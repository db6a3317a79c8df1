/*
 * What an upload failure means for the data.
 *
 * - "transient": the cloud or the path to it is unwell (refused, reset,
 *   timeout, UNAVAILABLE, INTERNAL, …). Nothing is wrong with the chunk: keep
 *   it, back off, retry it unchanged.
 * - "rejected": the cloud refused this chunk's content (INVALID_ARGUMENT,
 *   OUT_OF_RANGE). Retrying the same bytes can never succeed, so the uploader
 *   narrows the chunk down to the offending record(s) and sets those aside
 *   (counted and logged) so one bad record never blocks its ring.
 *
 * Anything not known to be about the chunk is transient: PERMISSION_DENIED,
 * NOT_FOUND or UNIMPLEMENTED describe the part or the cloud, and discarding
 * readings for them would turn a configuration slip into data loss.
 * UNAUTHENTICATED reaching this layer means the rpc client's one
 * re-authentication already failed: also transient (credentials may be fixed).
 */

import { TransportError } from "../ports";
import { Code, codeName, RpcError } from "../rpc/status";

export type FailureKind = "transient" | "rejected";

export interface Failure {
  kind: FailureKind;
  /** gRPC code (UNAVAILABLE for transport failures that carry none). */
  code: number;
  /** Short text for logs and the status snapshot. */
  reason: string;
}

const REJECTING_CODES: readonly number[] = [Code.INVALID_ARGUMENT, Code.OUT_OF_RANGE];

export function classifyFailure(error: unknown): Failure {
  if (error instanceof RpcError) {
    const kind: FailureKind = REJECTING_CODES.includes(error.code) ? "rejected" : "transient";
    const via = error.transport ? ` (${error.transport})` : "";
    return { kind, code: error.code, reason: `${error.message}${via}` };
  }
  if (error instanceof TransportError) {
    const code = error.kind === "timeout" ? Code.DEADLINE_EXCEEDED : Code.UNAVAILABLE;
    return { kind: "transient", code, reason: `${codeName(code)}: ${error.kind}: ${error.message}` };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { kind: "transient", code: Code.UNKNOWN, reason: `UNKNOWN: ${message}` };
}
