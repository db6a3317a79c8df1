// The device codecs against protobuf-es (the reference implementation), on thousands of
// seeded random messages: encoders must produce the same bytes, decoders must accept
// whatever protobuf-es produces and read the same values. protobuf-es is pure JS, so this
// runs in the Node lane and, bundled, inside XS too.
import { create, toBinary } from "@bufbuild/protobuf";
import { decodeAuthenticateResponse, encodeAuthenticateRequest } from "../../modules/proto/auth";
import { decodeConfigResponse, encodeConfigRequest } from "../../modules/proto/config";
import { decodeSensorData, encodeSensorData } from "../../modules/proto/sensor_data";
import {
  DATA_TYPE_TABULAR_SENSOR,
  encodeUploadMetadata,
  encodeUploadRequest,
  type UploadMetadata,
  uploadRequestSize,
} from "../../modules/proto/upload";
import { ProtoWriter } from "../../modules/proto/writer";
import { AuthenticateRequestSchema, AuthenticateResponseSchema } from "../../protos/gen/proto/rpc/v1/auth_pb";
import {
  DataCaptureUploadRequestSchema,
  type DataType,
  SensorDataSchema,
} from "../../protos/gen/viam/app/datasync/v1/data_sync_pb";
import { ConfigRequestSchema, ConfigResponseSchema } from "../../protos/gen/viam/app/v1/robot_pb";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";
import { type Json, randomEpochMs, randomObject, randomString } from "../support/random-json";

function timestamp(ms: number) {
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1000000 };
}

function esSensorData(t0: number, t1: number, payload: { [k: string]: Json }) {
  return create(SensorDataSchema, {
    metadata: { timeRequested: timestamp(t0), timeReceived: timestamp(t1) },
    data: { case: "struct", value: payload },
  });
}

test("SensorData: device bytes equal protobuf-es bytes (2000 random readings)", () => {
  const rng = new Random(1);
  const w = new ProtoWriter(64);
  for (let i = 0; i < 2000; i++) {
    const t0 = randomEpochMs(rng);
    const t1 = randomEpochMs(rng);
    const payload = rng.int(4) === 0 ? randomObject(rng, 3) : { readings: randomObject(rng, 2, 8) };
    w.reset();
    const device = encodeSensorData(w, t0, t1, payload);
    const reference = toBinary(SensorDataSchema, esSensorData(t0, t1, payload));
    assert.deepEqual(device, reference, `iteration ${i}: ${JSON.stringify(payload)}`);
  }
});

test("SensorData: the device decoder reads every protobuf-es encoding back (2000 random readings)", () => {
  const rng = new Random(2);
  for (let i = 0; i < 2000; i++) {
    const t0 = randomEpochMs(rng);
    const t1 = randomEpochMs(rng);
    const payload = randomObject(rng, 4);
    const bytes = toBinary(SensorDataSchema, esSensorData(t0, t1, payload));
    const back = decodeSensorData(bytes);
    assert.equal(back.timeRequestedMs, t0);
    assert.equal(back.timeReceivedMs, t1);
    assert.deepEqual(back.struct, payload, `iteration ${i}`);
  }
});

/** Replace unpaired surrogates with U+FFFD (what a WHATWG TextEncoder does). */
function wellFormed(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
        continue;
      }
    }
    out += c >= 0xd800 && c <= 0xdfff ? "\ufffd" : s[i]!;
  }
  return out;
}

// Protobuf strings must be valid UTF-8. The device writes U+FFFD for an unpaired
// surrogate, as protobuf-es does on Node; XS's own TextEncoder emits the surrogate's
// 3-byte form instead (invalid UTF-8), so the reference gets well-formed input here.
test("SensorData: strings with unpaired surrogates become U+FFFD, as protobuf-es writes them on Node", () => {
  const rng = new Random(3);
  const w = new ProtoWriter(64);
  for (let i = 0; i < 500; i++) {
    const key = randomString(rng, 6, true);
    const value = randomString(rng, 12, true);
    w.reset();
    assert.deepEqual(
      encodeSensorData(w, 0, 0, { readings: { [key]: value } }),
      toBinary(SensorDataSchema, esSensorData(0, 0, { readings: { [wellFormed(key)]: wellFormed(value) } })),
    );
  }
});

test("DataCaptureUploadRequest from pre-encoded SensorData equals protobuf-es (500 random requests)", () => {
  const rng = new Random(4);
  const w = new ProtoWriter(64);
  const sw = new ProtoWriter(64);
  for (let i = 0; i < 500; i++) {
    const meta: UploadMetadata = {
      partId: randomString(rng, 36),
      componentType: rng.pick(["rdk:component:sensor", "rdk:component:movement_sensor", ""]),
      componentName: randomString(rng, 20),
      methodName: rng.pick(["Readings", "AngularVelocity", "Position"]),
      type: rng.pick([DATA_TYPE_TABULAR_SENSOR, 0, 1]),
      tags: rng.int(2) ? [randomString(rng), randomString(rng)] : [],
    };
    const n = rng.int(30);
    const stored: Uint8Array[] = [];
    const es = [];
    for (let j = 0; j < n; j++) {
      const t0 = randomEpochMs(rng);
      const payload = { readings: randomObject(rng, 1, 6) };
      sw.reset();
      stored.push(new Uint8Array(encodeSensorData(sw, t0, t0 + 1, payload)));
      es.push(esSensorData(t0, t0 + 1, payload));
    }
    w.reset();
    const device = encodeUploadRequest(w, meta, stored);
    const reference = toBinary(
      DataCaptureUploadRequestSchema,
      create(DataCaptureUploadRequestSchema, {
        metadata: { ...meta, tags: meta.tags ? [...meta.tags] : [], type: meta.type as DataType },
        sensorContents: es,
      }),
    );
    assert.deepEqual(device, reference, `iteration ${i}`);
    assert.equal(uploadRequestSize(meta, stored), reference.length);
    // The metadata body alone (what sync caches) is the request's field 1 payload.
    w.reset();
    const metaBody = encodeUploadMetadata(w, meta);
    const prefix = metaBody.length < 128 ? 2 : 3;
    assert.equal(reference[0], 0x0a);
    assert.deepEqual(reference.subarray(prefix, prefix + metaBody.length), metaBody);
  }
});

test("AuthenticateRequest / ConfigRequest equal protobuf-es; AuthenticateResponse decodes", () => {
  const rng = new Random(5);
  const w = new ProtoWriter(16);
  for (let i = 0; i < 500; i++) {
    const entity = randomString(rng, 36);
    const payload = randomString(rng, 64);
    w.reset();
    assert.deepEqual(
      encodeAuthenticateRequest(w, entity, "robot-secret", payload),
      toBinary(
        AuthenticateRequestSchema,
        create(AuthenticateRequestSchema, { entity, credentials: { type: "robot-secret", payload } }),
      ),
    );
    w.reset();
    assert.deepEqual(
      encodeConfigRequest(w, entity),
      toBinary(ConfigRequestSchema, create(ConfigRequestSchema, { id: entity })),
    );
    const token = randomString(rng, 300);
    assert.equal(
      decodeAuthenticateResponse(
        toBinary(AuthenticateResponseSchema, create(AuthenticateResponseSchema, { accessToken: token })),
      ),
      token,
    );
  }
});

test("ConfigResponse: the device decoder reads every protobuf-es encoding (500 random configs)", () => {
  const rng = new Random(6);
  for (let i = 0; i < 500; i++) {
    const resource = (kind: string) => {
      const useApi = rng.int(2) === 0;
      const type = rng.pick(["sensor", "movement_sensor", "data_manager", "board"]);
      return {
        name: randomString(rng, 12),
        api: useApi ? `rdk:${kind}:${type}` : "",
        type: useApi ? "" : type,
        namespace: useApi ? "" : rng.pick(["", "rdk", "acme"]),
        model: randomString(rng, 10),
        attributes: randomObject(rng, 3),
        dependsOn: rng.int(2) ? [randomString(rng)] : [],
        serviceConfigs: rng.int(2)
          ? [
              {
                type: "data_manager",
                attributes: { capture_methods: [{ method: "Readings", capture_frequency_hz: rng.int(100) }] },
              },
            ]
          : [],
      };
    };
    const components = Array.from({ length: rng.int(4) }, () => resource("component"));
    const services = Array.from({ length: rng.int(3) }, () => resource("service"));
    const revision = randomString(rng, 8);
    const partId = randomString(rng, 36);
    const bytes = toBinary(
      ConfigResponseSchema,
      create(ConfigResponseSchema, {
        config: { cloud: { id: partId, secret: "s", fqdn: "x.local" }, components, services, revision },
      }),
    );
    const c = decodeConfigResponse(bytes);
    assert.equal(c.revision, revision);
    assert.equal(c.part_id, partId);
    const check = (got: (typeof c.components)[number], want: ReturnType<typeof resource>, kind: string) => {
      assert.equal(got.name, want.name);
      assert.equal(got.model, want.model);
      assert.equal(got.api, want.api || `${want.namespace || "rdk"}:${kind}:${want.type}`);
      assert.deepEqual(got.attributes, want.attributes);
      assert.deepEqual(got.depends_on, want.dependsOn);
      assert.deepEqual(got.service_configs, want.serviceConfigs);
    };
    assert.equal(c.components.length, components.length);
    for (let j = 0; j < components.length; j++) check(c.components[j]!, components[j]!, "component");
    assert.equal(c.services.length, services.length);
    for (let j = 0; j < services.length; j++) check(c.services[j]!, services[j]!, "service");
  }
});
