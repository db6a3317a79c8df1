/*
 * gRPC status codes and the error every RPC failure surfaces as. Sync's retry
 * policy reads `code` (and `transport` for connection-level failures).
 */

export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type CodeValue = (typeof Code)[keyof typeof Code];

const names: string[] = [];
for (const [name, value] of Object.entries(Code)) names[value] = name;

export function codeName(code: number): string {
  return names[code] ?? `CODE_${code}`;
}

export class RpcError extends Error {
  /** gRPC status code. Transport failures map to UNAVAILABLE (or DEADLINE_EXCEEDED for timeouts). */
  readonly code: number;
  /** Set when the failure happened below gRPC (refused, reset, timeout, too-large, malformed framing). */
  readonly transport: string | undefined;
  /** The HTTP status of an answer that carried no grpc-status (e.g. 413 from a proxy); undefined otherwise. */
  readonly httpStatus: number | undefined;
  constructor(code: number, message: string, transport?: string, httpStatus?: number) {
    super(`${codeName(code)}: ${message}`);
    // Defined, not assigned: Moddable freezes Error.prototype, and assigning over a
    // frozen inherited property throws (the "override mistake").
    Object.defineProperty(this, "name", { value: "RpcError" });
    this.code = code;
    this.transport = transport;
    this.httpStatus = httpStatus;
  }
}
