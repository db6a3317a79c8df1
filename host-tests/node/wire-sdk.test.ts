// Independent check with Viam's own published TypeScript SDK (@viamrobotics/sdk): its
// createViamClient(...).dataClient.tabularDataCaptureUpload authenticates with the robot
// secret and uploads over gRPC-web. Pointed at the local cloud (through a recording proxy),
// the SDK and the device client must put the same bytes on the wire and land identically.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createViamClient } from "@viamrobotics/sdk";
import { NodeHttpTransport } from "../../host/transport";
import { encodeAuthenticateRequest } from "../../modules/proto/auth";
import { encodeSensorData } from "../../modules/proto/sensor_data";
import { DATA_TYPE_TABULAR_SENSOR, encodeUploadRequest } from "../../modules/proto/upload";
import { ProtoWriter } from "../../modules/proto/writer";
import { CloudClient, DATA_CAPTURE_UPLOAD_PATH } from "../../modules/rpc/cloud-client";
import { Random } from "../harness/random";
import { startTestCloud, TEST_PART_ID, TEST_PART_SECRET } from "../support/cloud";
import { startCloudRecorder } from "../support/cloud-recorder";
import { randomObject } from "../support/random-json";

/** The protobuf message inside a one-frame gRPC-web request body. */
function unframe(body: Uint8Array): Uint8Array {
  assert.equal(body[0], 0, "an uncompressed data frame");
  const length = new DataView(body.buffer, body.byteOffset).getUint32(1);
  assert.equal(body.length, 5 + length, "exactly one frame");
  return body.subarray(5);
}

test("Viam's TypeScript SDK and the device upload the same bytes, which land identically", async () => {
  const cloud = await startTestCloud();
  const proxy = await startCloudRecorder(cloud.url);
  try {
    const rng = new Random(2024);
    const t0 = 1_732_000_000_000;
    const batches = Array.from({ length: 5 }, (_, b) =>
      Array.from({ length: 1 + rng.int(20) }, (_, i) => ({
        payload: { readings: randomObject(rng, 2, 6) },
        requested: t0 + b * 1000 + i * 7,
        received: t0 + b * 1000 + i * 7 + 3,
      })),
    );
    const tags = ["capsync", "sdk-check"];

    // Viam's client.
    const viam = await createViamClient({
      serviceHost: proxy.url,
      credentials: { type: "robot-secret", payload: TEST_PART_SECRET, authEntity: TEST_PART_ID },
    });
    for (const batch of batches) {
      await viam.dataClient.tabularDataCaptureUpload(
        batch.map((r) => r.payload),
        TEST_PART_ID,
        "rdk:component:sensor",
        "sdk",
        "Readings",
        batch.map((r) => [new Date(r.requested), new Date(r.received)]),
        tags,
      );
    }

    // The device's client, same readings, its own encoders.
    const transport = new NodeHttpTransport(proxy.url);
    const device = new CloudClient({ transport, partId: TEST_PART_ID, secret: TEST_PART_SECRET });
    const w = new ProtoWriter();
    for (const batch of batches) {
      const stored = batch.map((r) => {
        w.reset();
        return new Uint8Array(encodeSensorData(w, r.requested, r.received, r.payload));
      });
      const meta = {
        partId: TEST_PART_ID,
        componentType: "rdk:component:sensor",
        componentName: "sdk",
        methodName: "Readings",
        type: DATA_TYPE_TABULAR_SENSOR,
        tags,
      };
      await device.dataCaptureUpload(new Uint8Array(encodeUploadRequest(new ProtoWriter(), meta, stored)));
    }
    transport.close();

    // On the wire: Authenticate and every DataCaptureUpload, byte for byte.
    const auth = proxy.exchanges.filter((e) => e.path === "/proto.rpc.v1.AuthService/Authenticate");
    assert.equal(auth.length, 2);
    assert.equal(auth[0]!.headers["content-type"], "application/grpc-web+proto");
    assert.deepEqual(unframe(auth[0]!.body), unframe(auth[1]!.body));
    assert.deepEqual(
      unframe(auth[1]!.body),
      encodeAuthenticateRequest(new ProtoWriter(), TEST_PART_ID, "robot-secret", TEST_PART_SECRET),
    );
    const uploads = proxy.exchanges.filter((e) => e.path === DATA_CAPTURE_UPLOAD_PATH);
    assert.equal(uploads.length, 10);
    for (const e of uploads) {
      assert.equal(e.status, 200);
      assert.match(String(e.headers.authorization), /^Bearer /);
    }
    for (let b = 0; b < 5; b++) {
      assert.deepEqual(unframe(uploads[5 + b]!.body), unframe(uploads[b]!.body), `batch ${b}`);
    }

    // In the database: the same rows.
    const rows = cloud.readings({ componentName: "sdk" });
    const total = batches.reduce((n, b) => n + b.length, 0);
    assert.equal(rows.length, 2 * total);
    const strip = (r: (typeof rows)[number]) => ({
      partId: r.partId,
      componentType: r.componentType,
      methodName: r.methodName,
      timeRequestedMs: r.timeRequestedMs,
      timeReceivedMs: r.timeReceivedMs,
      data: r.data,
      sensorData: Buffer.from(r.sensorData).toString("hex"),
    });
    assert.deepEqual(rows.slice(total).map(strip), rows.slice(0, total).map(strip));
    assert.deepEqual(rows[0]!.data, batches[0]![0]!.payload);
    const uploadsRows = cloud.store.db
      .prepare("SELECT tags, data_type, reading_count, request_bytes FROM uploads ORDER BY id")
      .all() as unknown[];
    assert.deepEqual(uploadsRows.slice(5), uploadsRows.slice(0, 5));
  } finally {
    await proxy.close();
    await cloud.close();
  }
});
