// The local cloud itself, driven by Connect's own clients over all three protocols,
// plus its storage, JSON endpoints, query command and extension hook.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { AuthService } from "../../protos/gen/proto/rpc/v1/auth_pb";
import { DataSyncService, DataType } from "../../protos/gen/viam/app/datasync/v1/data_sync_pb";
import { RobotService } from "../../protos/gen/viam/app/v1/robot_pb";
import { startTestCloud, TEST_MACHINE_CONFIG, TEST_PART_ID, TEST_PART_SECRET } from "../support/cloud";

const root = path.resolve(import.meta.dirname, "../..");

async function token(t: Transport): Promise<Record<string, string>> {
  const { accessToken } = await createClient(AuthService, t).authenticate({
    entity: TEST_PART_ID,
    credentials: { type: "robot-secret", payload: TEST_PART_SECRET },
  });
  return { authorization: `Bearer ${accessToken}` };
}

function upload(component: string, n: number, t0 = 1_700_000_000_000) {
  return {
    metadata: {
      partId: TEST_PART_ID,
      componentType: "rdk:component:sensor",
      componentName: component,
      methodName: "Readings",
      type: DataType.TABULAR_SENSOR,
      tags: ["a"],
    },
    sensorContents: Array.from({ length: n }, (_, i) => ({
      metadata: {
        timeRequested: { seconds: BigInt(Math.floor((t0 + i) / 1000)), nanos: ((t0 + i) % 1000) * 1e6 },
      },
      data: { case: "struct" as const, value: { readings: { i } } },
    })),
  };
}

async function connectError(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (e) {
    return ConnectError.from(e);
  }
  assert.fail("expected an error");
}

test("gRPC (HTTP/2), gRPC-web and Connect all work on the one port", async () => {
  const cloud = await startTestCloud();
  try {
    const transports = {
      grpc: createGrpcTransport({ baseUrl: cloud.url }),
      "grpc-web": createGrpcWebTransport({ baseUrl: cloud.url, httpVersion: "1.1" }),
      connect: createConnectTransport({ baseUrl: cloud.url, httpVersion: "1.1" }),
    };
    for (const [name, t] of Object.entries(transports)) {
      const headers = await token(t);
      const res = await createClient(RobotService, t).config({ id: TEST_PART_ID }, { headers });
      assert.equal(res.config?.revision, "1", name);
      assert.equal(res.config?.components[0]?.api, "rdk:component:sensor");
      assert.deepEqual(res.config?.components[0]?.attributes, { pin: 4 });
      const up = await createClient(DataSyncService, t).dataCaptureUpload(upload(name, 3), { headers });
      assert.match(up.fileId, /^[0-9a-f]{24}$/);
    }
    assert.deepEqual(
      cloud.counts().map((c) => [c.componentName, c.count, c.uploads]),
      [
        ["connect", 3, 1],
        ["grpc", 3, 1],
        ["grpc-web", 3, 1],
      ],
    );
    const protocols = cloud.store.db
      .prepare("SELECT component_name, protocol FROM uploads ORDER BY id")
      .all();
    assert.deepEqual(protocols, [
      { component_name: "grpc", protocol: "grpc" },
      { component_name: "grpc-web", protocol: "grpc-web" },
      { component_name: "connect", protocol: "connect" },
    ]);
  } finally {
    await cloud.close();
  }
});

test("auth rules: bad secret, unknown part, missing/unknown token, token for another part", async () => {
  const cloud = await startTestCloud({
    parts: [
      { id: TEST_PART_ID, secret: TEST_PART_SECRET },
      { id: "other", secret: "x" },
    ],
  });
  try {
    const t = createGrpcWebTransport({ baseUrl: cloud.url, httpVersion: "1.1" });
    const auth = createClient(AuthService, t);
    for (const req of [
      { entity: TEST_PART_ID, credentials: { type: "robot-secret", payload: "wrong" } },
      { entity: "nobody", credentials: { type: "robot-secret", payload: TEST_PART_SECRET } },
      { entity: TEST_PART_ID, credentials: { type: "api-key", payload: TEST_PART_SECRET } },
    ]) {
      assert.equal((await connectError(auth.authenticate(req))).code, Code.Unauthenticated);
    }
    const robot = createClient(RobotService, t);
    assert.equal((await connectError(robot.config({ id: TEST_PART_ID }))).code, Code.Unauthenticated);
    assert.equal(
      (await connectError(robot.config({ id: TEST_PART_ID }, { headers: { authorization: "Bearer nope" } })))
        .code,
      Code.Unauthenticated,
    );
    const headers = await token(t);
    assert.equal(
      (await connectError(robot.config({ id: "other" }, { headers }))).code,
      Code.PermissionDenied,
    );
    const sync = createClient(DataSyncService, t);
    assert.equal(
      (await connectError(sync.dataCaptureUpload({ sensorContents: [] }, { headers }))).code,
      Code.InvalidArgument,
    );
    assert.equal(
      (await connectError(sync.dataCaptureUpload({ ...upload("x", 0) }, { headers }))).code,
      Code.InvalidArgument,
    );
    assert.equal(cloud.stats.authFailures, 3);
    assert.equal(cloud.stats.unauthenticated, 2);
    assert.equal(cloud.count(), 0);
  } finally {
    await cloud.close();
  }
});

test("a request over readMaxBytes is refused with RESOURCE_EXHAUSTED and not stored", async () => {
  const cloud = await startTestCloud({ readMaxBytes: 4096 });
  try {
    const t = createGrpcWebTransport({ baseUrl: cloud.url, httpVersion: "1.1" });
    const headers = await token(t);
    const e = await connectError(
      createClient(DataSyncService, t).dataCaptureUpload(upload("big", 500), { headers }),
    );
    assert.equal(e.code, Code.ResourceExhausted);
    assert.equal(cloud.count(), 0);
  } finally {
    await cloud.close();
  }
});

test("a malformed machine config is refused with the bad field named", async () => {
  await assert.rejects(
    startTestCloud({ machineConfig: { components: [{ name: "x", attributes: [] as never }] } }),
    /components\[0\]\.attributes must be an object/,
  );
  const cloud = await startTestCloud();
  try {
    assert.throws(() => cloud.setConfig({ services: "no" as never }), /services must be an array/);
    assert.equal(cloud.config(TEST_PART_ID).revision, "1", "a refused config does not bump the revision");
  } finally {
    await cloud.close();
  }
});

test("durable: readings survive a restart on the same database file; the query command reads them", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capsync-cloud-"));
  const dbPath = path.join(dir, "cloud.db");
  try {
    let cloud = await startTestCloud({ dbPath });
    let t = createGrpcWebTransport({ baseUrl: cloud.url, httpVersion: "1.1" });
    let headers = await token(t);
    await createClient(DataSyncService, t).dataCaptureUpload(upload("env", 7), { headers });
    await cloud.close();

    cloud = await startTestCloud({ dbPath });
    assert.equal(cloud.count({ componentName: "env" }), 7);
    t = createGrpcWebTransport({ baseUrl: cloud.url, httpVersion: "1.1" });
    headers = await token(t);
    await createClient(DataSyncService, t).dataCaptureUpload(upload("imu", 2), { headers });
    await cloud.close();

    const out = execFileSync(
      process.execPath,
      ["--import", "tsx", "tools/cloud/main.ts", "query", "--db", dbPath, "--list", "--limit", "1"],
      { cwd: root, encoding: "utf8" },
    );
    assert.match(out, new RegExp(`${TEST_PART_ID}\\s+env\\s+Readings\\s+7\\s+1`));
    assert.match(out, new RegExp(`${TEST_PART_ID}\\s+imu\\s+Readings\\s+2\\s+1`));
    assert.match(out, /total readings: 9/);
    assert.match(out, /imu\/Readings \{"readings":\{"i":1\}\}/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("JSON endpoints list and count readings; other paths fall through to extraRoutes", async () => {
  const cloud = await startTestCloud({
    extraRoutes: (req, res) => {
      if (req.url !== "/demo") return false;
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("demo page");
      return true;
    },
  });
  try {
    const t = createGrpcWebTransport({ baseUrl: cloud.url, httpVersion: "1.1" });
    const headers = await token(t);
    await createClient(DataSyncService, t).dataCaptureUpload(upload("env", 5), { headers });
    await createClient(DataSyncService, t).dataCaptureUpload(upload("imu", 2), { headers });

    const counts = await (await fetch(`${cloud.url}/cloud/counts?component=env`)).json();
    assert.equal(counts.total, 5);
    assert.equal(counts.counts[0].methodName, "Readings");
    const list = await (await fetch(`${cloud.url}/cloud/readings?component=env&after=2&limit=2`)).json();
    assert.deepEqual(
      list.readings.map((r: { id: number; data: unknown }) => [r.id, r.data]),
      [
        [3, { readings: { i: 2 } }],
        [4, { readings: { i: 3 } }],
      ],
    );
    const stats = await (await fetch(`${cloud.url}/cloud/stats`)).json();
    assert.equal(stats.stats.uploads, 2);
    assert.equal(await (await fetch(`${cloud.url}/demo`)).text(), "demo page");
    assert.equal((await fetch(`${cloud.url}/nothing`)).status, 404);
  } finally {
    await cloud.close();
  }
});

test("faults fire the armed number of times on the named method only, in order", async () => {
  const cloud = await startTestCloud();
  try {
    const t = createGrpcWebTransport({ baseUrl: cloud.url, httpVersion: "1.1" });
    cloud.faults.add({ kind: "status", code: Code.Unavailable, method: "DataCaptureUpload", times: 2 });
    cloud.faults.add({ kind: "status", code: Code.Internal, method: "DataCaptureUpload" });
    const headers = await token(t); // Authenticate is not affected
    const sync = createClient(DataSyncService, t);
    const codes = [];
    for (let i = 0; i < 4; i++) {
      codes.push(
        await sync.dataCaptureUpload(upload("env", 1), { headers }).then(
          () => 0,
          (e) => ConnectError.from(e).code,
        ),
      );
    }
    assert.deepEqual(codes, [Code.Unavailable, Code.Unavailable, Code.Internal, 0]);
    assert.equal(cloud.faults.counts.status, 3);
    assert.deepEqual(cloud.faults.pending(), []);
  } finally {
    await cloud.close();
  }
});

test("the example machine config shipped for `npm run cloud` is valid", async () => {
  const json = JSON.parse(fs.readFileSync(path.join(root, "tools/cloud/machine.example.json"), "utf8"));
  const cloud = await startTestCloud({ machineConfig: json });
  try {
    assert.equal(cloud.config(TEST_PART_ID).config, json);
    assert.notEqual(json, TEST_MACHINE_CONFIG);
  } finally {
    await cloud.close();
  }
});

test("`npm run cloud` starts a cloud; `send` uploads through it; `query` shows what arrived", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capsync-cloud-cli-"));
  const dbPath = path.join(dir, "cloud.db");
  const { spawn } = await import("node:child_process");
  const server = spawn(
    process.execPath,
    ["--import", "tsx", "tools/cloud/main.ts", "--port", "0", "--db", dbPath],
    {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let text = "";
      server.stdout.on("data", (chunk: Buffer) => {
        text += chunk;
        const m = /local cloud on (http:\/\/[\d.:]+)/.exec(text);
        if (m) resolve(m[1]!);
      });
      server.on("exit", (code) => reject(new Error(`cloud exited with ${code}: ${text}`)));
    });
    const sent = execFileSync(
      process.execPath,
      ["--import", "tsx", "tools/cloud/main.ts", "send", "--url", url, "--readings", "120"],
      { cwd: root, encoding: "utf8" },
    );
    assert.match(sent, /config revision 1: env, imu/);
    assert.equal(sent.match(/uploaded \d+ readings/g)?.length, 3);
    const counts = await (await fetch(`${url}/cloud/counts`)).json();
    assert.equal(counts.total, 120);
    const out = execFileSync(
      process.execPath,
      ["--import", "tsx", "tools/cloud/main.ts", "query", "--db", dbPath],
      {
        cwd: root,
        encoding: "utf8",
      },
    );
    assert.match(out, /local-part\s+env\s+Readings\s+120\s+3/);
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
