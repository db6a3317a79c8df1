// The device's UploadMetadata bytes checked against protobuf-es: identical to
// protobuf-es's encoding for every field of the repo's proto subset, and each
// method_parameters value a google.protobuf.Any that protobuf-es unpacks to the
// StringValue Viam's clients send.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { AnySchema, anyUnpack, StringValueSchema } from "@bufbuild/protobuf/wkt";
import { writeCollectorMetadata } from "../../modules/manager/collector-target";
import { ProtoWriter } from "../../modules/proto/writer";
import { UploadMetadataSchema } from "../../protos/gen/viam/app/datasync/v1/data_sync_pb";

test("UploadMetadata with method_parameters: protobuf-es agrees byte for byte", () => {
  const fields = {
    partId: "part-9",
    componentType: "rdk:component:board",
    componentName: "b",
    methodName: "Gpios",
  };
  const w = new ProtoWriter(16);
  writeCollectorMetadata(w, fields, { pin_name: "io13", z: "last" }, ["t1", "t2"]);
  const bytes = w.finish().slice();

  // Split out field 8 (not in the repo's subset); the rest must equal protobuf-es's bytes.
  const reader = new BinaryReader(bytes);
  const rest: number[] = [];
  const anys: { key: string; any: Uint8Array }[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [field, wireType] = reader.tag();
    if (field === 8) {
      assert.equal(wireType, WireType.LengthDelimited);
      const entry = new BinaryReader(reader.bytes());
      let key = "";
      let any: Uint8Array = new Uint8Array(0);
      while (entry.pos < entry.len) {
        const [f] = entry.tag();
        if (f === 1) key = entry.string();
        else any = entry.bytes();
      }
      anys.push({ key, any });
      continue;
    }
    reader.skip(wireType);
    rest.push(...bytes.subarray(start, reader.pos));
  }
  const expected = toBinary(
    UploadMetadataSchema,
    create(UploadMetadataSchema, { ...fields, type: 2, tags: ["t1", "t2"] }),
  );
  assert.deepEqual(new Uint8Array(rest), expected);
  assert.deepEqual(
    anys.map(({ key, any }) => [key, anyUnpack(fromBinary(AnySchema, any), StringValueSchema)?.value]),
    [
      ["pin_name", "io13"],
      ["z", "last"],
    ],
  );
});
