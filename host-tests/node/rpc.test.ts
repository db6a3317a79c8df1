// The device's cloud client (modules/rpc over host/transport.ts) against the real local
// cloud on loopback: auth, config, many uploads, TLS, and every fault mode's documented error.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { NodeHttpTransport } from "../../host/transport";
import type { Logger } from "../../modules/ports";
import { encodeSensorData } from "../../modules/proto/sensor_data";
import {
  DATA_TYPE_TABULAR_SENSOR,
  encodeUploadRequest,
  type UploadMetadata,
} from "../../modules/proto/upload";
import { ProtoWriter } from "../../modules/proto/writer";
import { CloudClient } from "../../modules/rpc/cloud-client";
import { Code, RpcError } from "../../modules/rpc/status";
import type { Cloud } from "../../tools/cloud/server";
import { startTestCloud, TEST_MACHINE_CONFIG, TEST_PART_ID, TEST_PART_SECRET } from "../support/cloud";

const META: UploadMetadata = {
  partId: TEST_PART_ID,
  componentType: "rdk:component:sensor",
  componentName: "env",
  methodName: "Readings",
  type: DATA_TYPE_TABULAR_SENSOR,
};

function uploadRequest(count: number, base = 1_700_000_000_000, meta = META): Uint8Array {
  const w = new ProtoWriter();
  const data: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    w.reset();
    data.push(
      new Uint8Array(encodeSensorData(w, base + i, base + i + 1, { readings: { i, temp: 20 + i / 10 } })),
    );
  }
  return new Uint8Array(encodeUploadRequest(new ProtoWriter(), meta, data));
}

class Lines implements Logger {
  lines: string[] = [];
  info(m: string) {
    this.lines.push(m);
  }
  warn(m: string) {
    this.lines.push(m);
  }
  error(m: string) {
    this.lines.push(m);
  }
}

async function rejection(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (error) {
    assert.ok(error instanceof RpcError, `expected RpcError, got ${error}`);
    return error;
  }
  assert.fail("expected a rejection");
}

describe("device client ↔ local cloud (plain HTTP)", () => {
  let cloud: Cloud;
  let transport: NodeHttpTransport;
  let client: CloudClient;
  const log = new Lines();

  before(async () => {
    cloud = await startTestCloud();
    transport = new NodeHttpTransport(cloud.url);
    client = new CloudClient({
      transport,
      partId: TEST_PART_ID,
      secret: TEST_PART_SECRET,
      logger: log,
      timeoutMs: 5000,
    });
  });
  after(async () => {
    transport.close();
    await cloud.close();
    for (const line of log.lines) assert.ok(!line.includes(TEST_PART_SECRET), `secret logged: ${line}`);
  });

  test("config: the part's machine config, and a pushed config arrives with a new revision", async () => {
    const c = await client.config();
    assert.equal(c.part_id, TEST_PART_ID);
    assert.equal(c.revision, "1");
    assert.deepEqual(
      c.components.map((x) => [x.name, x.api, x.model]),
      [["env", "rdk:component:sensor", "capsync:sensor:fake"]],
    );
    assert.deepEqual(c.components[0]!.service_configs, TEST_MACHINE_CONFIG.components![0]!.service_configs);
    assert.deepEqual(c.services[0]!.attributes, { sync_interval_mins: 0.1, tags: ["t1"] });

    const revision = cloud.setConfig({ ...TEST_MACHINE_CONFIG, components: [] });
    const c2 = await client.config();
    assert.equal(c2.revision, revision);
    assert.equal(c2.components.length, 0);
    cloud.setConfig(TEST_MACHINE_CONFIG);
  });

  test("uploads of many chunks all land, over one keep-alive connection", async () => {
    const before = cloud.count();
    const connections = transport.stats.connections;
    for (let chunk = 0; chunk < 100; chunk++) {
      const id = await client.dataCaptureUpload(uploadRequest(50, 1_700_000_000_000 + chunk * 1000));
      assert.match(id, /^[0-9a-f]{24}$/);
    }
    assert.equal(cloud.count() - before, 5000);
    assert.equal(transport.stats.connections, connections, "no new connection for 100 uploads");
    const rows = cloud.readings({ componentName: "env", methodName: "Readings", afterId: 0, limit: 2 });
    assert.deepEqual(rows[0]!.data, { readings: { i: 0, temp: 20 } });
    assert.equal(rows[0]!.timeRequestedMs, 1_700_000_000_000);
    assert.equal(rows[0]!.timeReceivedMs, 1_700_000_000_001);
  });

  test("an upload for another part is refused with PERMISSION_DENIED", async () => {
    const e = await rejection(
      client.dataCaptureUpload(uploadRequest(1, 0, { ...META, partId: "someone-else" })),
    );
    assert.equal(e.code, Code.PERMISSION_DENIED);
  });

  test("expired token: re-authenticates once and the call succeeds", async () => {
    const reauth = client.counters.reauthentications;
    const expired = cloud.faults.counts["expired-token"] ?? 0;
    cloud.expireTokens();
    await client.dataCaptureUpload(uploadRequest(1));
    assert.equal(client.counters.reauthentications, reauth + 1);
    assert.equal(cloud.faults.counts["expired-token"], expired + 1);
  });

  test("reset before handling → UNAVAILABLE/reset, nothing stored; the next call works", async () => {
    const n = cloud.count();
    cloud.faults.add({ kind: "reset", method: "DataCaptureUpload" });
    const e = await rejection(client.dataCaptureUpload(uploadRequest(3)));
    assert.equal(e.code, Code.UNAVAILABLE);
    assert.equal(e.transport, "reset");
    assert.equal(cloud.count(), n);
    assert.equal(cloud.faults.counts.reset, 1);
    await client.dataCaptureUpload(uploadRequest(3));
    assert.equal(cloud.count(), n + 3);
  });

  test("ack lost → UNAVAILABLE/reset, but the cloud DID store the upload", async () => {
    const n = cloud.count();
    cloud.faults.add({ kind: "ack-lost", method: "DataCaptureUpload" });
    const e = await rejection(client.dataCaptureUpload(uploadRequest(4)));
    assert.equal(e.code, Code.UNAVAILABLE);
    assert.equal(e.transport, "reset");
    assert.equal(cloud.count(), n + 4, "stored although the client never heard back");
    assert.equal(cloud.faults.counts["ack-lost"], 1);
  });

  test("response cut mid-body → UNAVAILABLE/reset; the cloud stored the upload", async () => {
    const n = cloud.count();
    cloud.faults.add({ kind: "cut-response", method: "DataCaptureUpload" });
    const e = await rejection(client.dataCaptureUpload(uploadRequest(2)));
    assert.equal(e.code, Code.UNAVAILABLE);
    assert.equal(e.transport, "reset");
    assert.equal(cloud.count(), n + 2);
    assert.equal(cloud.faults.counts["cut-response"], 1);
  });

  test("tokens that run out (tokenTtlMs) are renewed transparently", async () => {
    // Tokens expire by a fake clock (a real 50 ms lifetime ran out mid-call on a loaded machine).
    let nowMs = 0;
    const shortLived = await startTestCloud({ tokenTtlMs: 50, tokenClock: () => nowMs });
    const t = new NodeHttpTransport(shortLived.url);
    const c = new CloudClient({ transport: t, partId: TEST_PART_ID, secret: TEST_PART_SECRET });
    try {
      await c.config();
      nowMs += 120;
      await c.config();
      assert.equal(c.counters.authentications, 2);
      assert.equal(c.counters.reauthentications, 1);
      assert.equal(shortLived.faults.counts["expired-token"], 1);
    } finally {
      t.close();
      await shortLived.close();
    }
  });

  test("injected gRPC statuses arrive as those codes, with nothing stored", async () => {
    const n = cloud.count();
    for (const code of [Code.UNAVAILABLE, Code.INTERNAL, Code.RESOURCE_EXHAUSTED, Code.INVALID_ARGUMENT]) {
      cloud.faults.add({ kind: "status", code, message: "injected", method: "DataCaptureUpload" });
      const e = await rejection(client.dataCaptureUpload(uploadRequest(1)));
      assert.equal(e.code, code);
      assert.match(e.message, /injected/);
      assert.equal(e.transport, undefined);
    }
    assert.equal(cloud.count(), n);
    assert.equal(cloud.faults.counts.status, 4);
  });

  test("bare HTTP errors map to gRPC codes", async () => {
    const cases: [number, number][] = [
      [404, Code.UNIMPLEMENTED],
      [429, Code.UNAVAILABLE],
      [502, Code.UNAVAILABLE],
      [503, Code.UNAVAILABLE],
      [504, Code.UNAVAILABLE],
      [403, Code.PERMISSION_DENIED],
    ];
    for (const [status, code] of cases) {
      cloud.faults.add({ kind: "http-status", status, method: "Config" });
      const e = await rejection(client.config());
      assert.equal(e.code, code, `HTTP ${status}`);
    }
    // 401 → UNAUTHENTICATED → one re-authentication, then the retried call succeeds.
    const reauth = client.counters.reauthentications;
    cloud.faults.add({ kind: "http-status", status: 401, method: "Config" });
    await client.config();
    assert.equal(client.counters.reauthentications, reauth + 1);
  });

  test("delay beyond the call's deadline → DEADLINE_EXCEEDED/timeout", async () => {
    cloud.faults.add({ kind: "delay", ms: 600, method: "Config" });
    const e = await rejection(client.config("", { timeoutMs: 150 }).catch((x) => Promise.reject(x)));
    assert.equal(e.code, Code.DEADLINE_EXCEEDED);
    assert.equal(e.transport, "timeout");
    // A delay within the deadline is just slow.
    cloud.faults.add({ kind: "delay", ms: 50, method: "Config" });
    const c = await client.config();
    assert.equal(c.part_id, TEST_PART_ID);
  });

  test("malformed responses → INTERNAL, each variant", async () => {
    for (const variant of ["garbage", "truncated", "huge-length", "bad-proto", "no-status"] as const) {
      cloud.faults.add({ kind: "malformed", variant, method: "DataCaptureUpload" });
      const e = await rejection(client.dataCaptureUpload(uploadRequest(1)));
      assert.equal(e.code, Code.INTERNAL, variant);
      assert.equal(e.transport, "protocol", variant);
    }
    assert.equal(cloud.faults.counts.malformed, 5);
  });

  test("an oversized response is cut off at the limit: RESOURCE_EXHAUSTED/too-large, bounded reading", async () => {
    const written = cloud.stats.oversizedBytesWritten;
    cloud.faults.add({ kind: "oversized", bytes: 256 * 1024 * 1024, method: "DataCaptureUpload" });
    const heapBefore = process.memoryUsage().arrayBuffers;
    const e = await rejection(client.dataCaptureUpload(uploadRequest(1)));
    assert.equal(e.code, Code.RESOURCE_EXHAUSTED);
    assert.equal(e.transport, "too-large");
    // Give the server a moment to notice the hang-up, then check it never got far.
    await new Promise((r) => setTimeout(r, 100));
    const sent = cloud.stats.oversizedBytesWritten - written;
    assert.ok(sent < 64 * 1024 * 1024, `server pushed ${sent} bytes before the client hung up`);
    assert.ok(
      process.memoryUsage().arrayBuffers - heapBefore < 32 * 1024 * 1024,
      "client buffered far past its limit",
    );
    // The connection was dropped; the next call opens a new one and works.
    await client.dataCaptureUpload(uploadRequest(1));
  });

  test("refused while the cloud is down → UNAVAILABLE/refused; works again after accept()", async () => {
    await cloud.refuse();
    try {
      // The kept-alive connection was just dropped: the first call may hit it (reset)
      // before the client has seen it close; after that, nothing is listening.
      const first = await rejection(client.dataCaptureUpload(uploadRequest(1)));
      assert.equal(first.code, Code.UNAVAILABLE);
      const e = await rejection(client.dataCaptureUpload(uploadRequest(1)));
      assert.equal(e.code, Code.UNAVAILABLE);
      assert.equal(e.transport, "refused");
    } finally {
      await cloud.accept();
    }
    await client.dataCaptureUpload(uploadRequest(1));
    assert.equal(cloud.faults.counts.refuse, 1);
  });

  test("wrong secret → UNAUTHENTICATED, and the secret is not in the error", async () => {
    const bad = new CloudClient({ transport, partId: TEST_PART_ID, secret: "not-the-secret" });
    const e = await rejection(bad.config());
    assert.equal(e.code, Code.UNAUTHENTICATED);
    assert.ok(!e.message.includes("not-the-secret"));
  });
});

describe("device client ↔ local cloud over TLS", () => {
  let cloud: Cloud;
  before(async () => {
    cloud = await startTestCloud({ tls: true });
  });
  after(async () => {
    await cloud.close();
  });

  test("verifies the server against the given CA; one handshake for many calls", async () => {
    const transport = new NodeHttpTransport(cloud.url, { ca: cloud.ca! });
    const client = new CloudClient({ transport, partId: TEST_PART_ID, secret: TEST_PART_SECRET });
    await client.config();
    for (let i = 0; i < 20; i++)
      await client.dataCaptureUpload(uploadRequest(10, 1_700_000_000_000 + i * 100));
    assert.equal(cloud.count(), 200);
    assert.equal(transport.stats.tlsHandshakes, 1);
    assert.equal(transport.stats.connections, 1);
    assert.equal(cloud.stats.tlsHandshakes, 1);
    assert.equal(cloud.caDer![0], 0x30, "DER: an ASN.1 SEQUENCE");
    transport.close();
  });

  test("a server certificate from another CA is rejected: UNAVAILABLE/tls", async () => {
    const { makeTestCertificates } = await import("../../tools/cloud/tls");
    const other = makeTestCertificates();
    const transport = new NodeHttpTransport(cloud.url, { ca: other.ca });
    const client = new CloudClient({ transport, partId: TEST_PART_ID, secret: TEST_PART_SECRET });
    const e = await rejection(client.config());
    assert.equal(e.code, Code.UNAVAILABLE);
    assert.equal(e.transport, "tls");
    transport.close();
  });
});
