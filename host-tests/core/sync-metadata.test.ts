import { writeCollectorMetadata } from "../../modules/manager/collector-target";
import { ProtoReader } from "../../modules/proto/reader";
import { ProtoWriter } from "../../modules/proto/writer";
import { assert, test } from "../harness/index";

interface Decoded {
  order: number[];
  strings: Record<number, string[]>;
  type: number;
  parameters: Record<string, { typeUrl: string; value: string }>;
}

function decodeMetadata(bytes: Uint8Array): Decoded {
  const r = new ProtoReader(bytes);
  const out: Decoded = { order: [], strings: {}, type: 0, parameters: {} };
  while (r.more()) {
    const field = r.tag();
    out.order.push(field);
    if (field === 6) out.type = r.varint();
    else if (field === 8) {
      const outer = r.enter();
      let key = "";
      let typeUrl = "";
      let value = "";
      while (r.more()) {
        const f = r.tag();
        if (f === 1) key = r.string();
        else if (f === 2) {
          const anyEnd = r.enter();
          while (r.more()) {
            const g = r.tag();
            if (g === 1) typeUrl = r.string();
            else if (g === 2) {
              const wrapped = new ProtoReader(r.bytes());
              while (wrapped.more()) {
                if (wrapped.tag() === 1) value = wrapped.string();
                else wrapped.skip();
              }
            } else r.skip();
          }
          r.leave(anyEnd);
        } else r.skip();
      }
      r.leave(outer);
      out.parameters[key] = { typeUrl, value };
    } else {
      out.strings[field] = [...(out.strings[field] ?? []), r.string()];
    }
  }
  return out;
}

test("upload metadata: part, component, method, tabular type, method_parameters as Any(StringValue), tags, in field order", () => {
  const w = new ProtoWriter(64);
  writeCollectorMetadata(
    w,
    { partId: "p-1", componentType: "rdk:component:board", componentName: "local", methodName: "Analogs" },
    { reader_name: "a1" },
    ["field", "ünï"],
  );
  const d = decodeMetadata(w.finish());
  assert.deepEqual(d.order, [1, 2, 3, 5, 6, 8, 10, 10], "protobuf-es field order");
  assert.deepEqual(d.strings[1], ["p-1"]);
  assert.deepEqual(d.strings[2], ["rdk:component:board"]);
  assert.deepEqual(d.strings[3], ["local"]);
  assert.deepEqual(d.strings[5], ["Analogs"]);
  assert.equal(d.type, 2, "DATA_TYPE_TABULAR_SENSOR");
  assert.deepEqual(d.parameters, {
    reader_name: { typeUrl: "type.googleapis.com/google.protobuf.StringValue", value: "a1" },
  });
  assert.deepEqual(d.strings[10], ["field", "ünï"]);
});

test("upload metadata: no parameters, no tags → only the identity fields", () => {
  const w = new ProtoWriter(8);
  writeCollectorMetadata(
    w,
    { partId: "p", componentType: "rdk:component:sensor", componentName: "t", methodName: "Readings" },
    {},
    [],
  );
  assert.deepEqual(decodeMetadata(w.finish()).order, [1, 2, 3, 5, 6]);
});
