/*
 * google.protobuf.Struct / Value / ListValue, between plain JS values and the
 * wire, without building intermediate message objects.
 *
 *   Struct    { map<string, Value> fields = 1 }   (map entry: key = 1, value = 2)
 *   Value     { oneof kind: null_value = 1 (enum), number_value = 2 (double),
 *               string_value = 3, bool_value = 4, struct_value = 5, list_value = 6 }
 *   ListValue { repeated Value values = 1 }
 *
 * Encoding writes fields in the order protobuf-es does (key order of the
 * object, entry key before value), so the bytes are identical, not merely
 * equivalent. Properties whose value is `undefined` (or a function/symbol) are
 * left out, as JSON.stringify does; inside arrays they become null.
 */

import type { ProtoReader } from "./reader";
import { type ProtoWriter, WIRE_I64, WIRE_LEN, WIRE_VARINT } from "./writer";

/** What a Struct holds, as plain JS. */
export type JsonValue = null | number | string | boolean | JsonObject | JsonValue[];
export interface JsonObject {
  [key: string]: JsonValue;
}

export const VALUE_NULL = 1;
export const VALUE_NUMBER = 2;
export const VALUE_STRING = 3;
export const VALUE_BOOL = 4;
export const VALUE_STRUCT = 5;
export const VALUE_LIST = 6;

/** Encoding depth limit: a self-referencing object fails cleanly instead of overflowing the stack. */
export const MAX_ENCODE_DEPTH = 64;

function skippable(value: unknown): boolean {
  return value === undefined || typeof value === "function" || typeof value === "symbol";
}

/** Write the body of a Struct (its map entries) for a plain object. */
export function writeStructFields(w: ProtoWriter, object: object, depth = 0): void {
  if (depth > MAX_ENCODE_DEPTH) throw new RangeError(`Struct nested deeper than ${MAX_ENCODE_DEPTH}`);
  const record = object as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const value = record[key];
    if (skippable(value)) continue;
    const entry = w.begin(1);
    w.string(1, key);
    const v = w.begin(2);
    writeValueKind(w, value, depth + 1);
    w.end(v);
    w.end(entry);
  }
}

/** Write a Struct message as field `field` of the enclosing message. */
export function writeStruct(w: ProtoWriter, field: number, object: object): void {
  const mark = w.begin(field);
  writeStructFields(w, object);
  w.end(mark);
}

/** Write the body of a Value (its one `kind` field). */
export function writeValueKind(w: ProtoWriter, value: unknown, depth = 0): void {
  switch (typeof value) {
    case "number":
      w.double(VALUE_NUMBER, value);
      return;
    case "string":
      w.string(VALUE_STRING, value);
      return;
    case "boolean":
      w.bool(VALUE_BOOL, value);
      return;
    case "bigint":
      w.double(VALUE_NUMBER, Number(value));
      return;
    case "object": {
      if (value === null) {
        w.uint(VALUE_NULL, 0);
        return;
      }
      if (depth > MAX_ENCODE_DEPTH) throw new RangeError(`Value nested deeper than ${MAX_ENCODE_DEPTH}`);
      if (Array.isArray(value)) {
        const list = w.begin(VALUE_LIST);
        for (let i = 0; i < value.length; i++) {
          const item = w.begin(1);
          const element = value[i];
          if (skippable(element)) w.uint(VALUE_NULL, 0);
          else writeValueKind(w, element, depth + 1);
          w.end(item);
        }
        w.end(list);
        return;
      }
      const struct = w.begin(VALUE_STRUCT);
      writeStructFields(w, value, depth + 1);
      w.end(struct);
      return;
    }
    default:
      w.uint(VALUE_NULL, 0);
  }
}

/**
 * Read a Struct body (from `r.pos` to `r.end`) into a plain object. Duplicate
 * keys: the last wins, as for any protobuf map. A key named "__proto__"
 * becomes an own property, never the object's prototype.
 */
export function readStructFields(r: ProtoReader): JsonObject {
  const out: JsonObject = {};
  while (r.more()) {
    if (r.tag() !== 1) {
      r.skip();
      continue;
    }
    r.expect(WIRE_LEN);
    const outer = r.enter();
    let key = "";
    let value: JsonValue = null;
    while (r.more()) {
      const f = r.tag();
      if (f === 1) {
        r.expect(WIRE_LEN);
        key = r.string();
      } else if (f === 2) {
        r.expect(WIRE_LEN);
        const inner = r.enter();
        value = readValueKind(r);
        r.leave(inner);
      } else r.skip();
    }
    r.leave(outer);
    setOwn(out, key, value);
  }
  return out;
}

/** Read a Struct sub-message (the last tag was its field) into a plain object. */
export function readStruct(r: ProtoReader): JsonObject {
  r.expect(WIRE_LEN);
  const outer = r.enter();
  const out = readStructFields(r);
  r.leave(outer);
  return out;
}

/** Read a Value body into plain JS. A Value with no kind set reads as null. */
export function readValueKind(r: ProtoReader): JsonValue {
  r.spend();
  let value: JsonValue = null;
  while (r.more()) {
    switch (r.tag()) {
      case VALUE_NULL:
        r.expect(WIRE_VARINT);
        r.varint();
        value = null;
        break;
      case VALUE_NUMBER:
        r.expect(WIRE_I64);
        value = r.double();
        break;
      case VALUE_STRING:
        r.expect(WIRE_LEN);
        value = r.string();
        break;
      case VALUE_BOOL:
        r.expect(WIRE_VARINT);
        value = r.bool();
        break;
      case VALUE_STRUCT: {
        r.expect(WIRE_LEN);
        const outer = r.enter();
        value = readStructFields(r);
        r.leave(outer);
        break;
      }
      case VALUE_LIST: {
        r.expect(WIRE_LEN);
        const outer = r.enter();
        const list: JsonValue[] = [];
        while (r.more()) {
          if (r.tag() !== 1) {
            r.skip();
            continue;
          }
          r.expect(WIRE_LEN);
          const inner = r.enter();
          list.push(readValueKind(r));
          r.leave(inner);
        }
        r.leave(outer);
        value = list;
        break;
      }
      default:
        r.skip();
    }
  }
  return value;
}

function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else target[key] = value;
}
