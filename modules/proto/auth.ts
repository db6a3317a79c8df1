/*
 * proto.rpc.v1.AuthService messages:
 *   AuthenticateRequest  { string entity = 1; Credentials credentials = 2; }
 *   Credentials          { string type = 1; string payload = 2; }
 *   AuthenticateResponse { string access_token = 1; }
 */

import { ProtoReader } from "./reader";
import { type ProtoWriter, WIRE_LEN } from "./writer";

export const ROBOT_SECRET = "robot-secret";

/** Append an AuthenticateRequest; returns the bytes written (a view into `w`). */
export function encodeAuthenticateRequest(
  w: ProtoWriter,
  entity: string,
  credentialType: string,
  payload: string,
  headerRoom = 0,
): Uint8Array {
  const start = w.pos;
  for (let i = 0; i < headerRoom; i++) w.raw(ZERO);
  if (entity.length > 0) w.string(1, entity);
  const mark = w.begin(2);
  if (credentialType.length > 0) w.string(1, credentialType);
  if (payload.length > 0) w.string(2, payload);
  w.end(mark);
  return w.finish().subarray(start);
}

/** The access token from an AuthenticateResponse ("" when absent). */
export function decodeAuthenticateResponse(bytes: Uint8Array): string {
  const r = new ProtoReader(bytes);
  let token = "";
  while (r.more()) {
    if (r.tag() === 1) {
      r.expect(WIRE_LEN);
      token = r.string();
    } else r.skip();
  }
  return token;
}

const ZERO = new Uint8Array(1);
