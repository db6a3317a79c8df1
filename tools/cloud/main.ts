/*
 * `npm run cloud` — start the local cloud:
 *   npm run cloud -- [--port 8080] [--config tools/cloud/machine.example.json] [--db .data/cloud.db]
 *                    [--part ID --secret SECRET] [--tls]
 * `npm run cloud -- query` — what has arrived, straight from the database:
 *   npm run cloud -- query [--db .data/cloud.db] [--part ID] [--component NAME] [--method NAME] [--list] [--limit N]
 * `npm run cloud -- send` — upload synthetic readings to a running cloud with the device's own client:
 *   npm run cloud -- send [--url http://127.0.0.1:8080] [--part ID --secret SECRET] [--readings 100] [--ca FILE]
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { NodeHttpTransport } from "../../host/transport";
import { encodeSensorData } from "../../modules/proto/sensor_data";
import { DATA_TYPE_TABULAR_SENSOR, encodeUploadRequest } from "../../modules/proto/upload";
import { ProtoWriter } from "../../modules/proto/writer";
import { CloudClient } from "../../modules/rpc/cloud-client";
import { startCloud } from "./server";
import { ReadingStore } from "./store";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: "string", default: "8080" },
    host: { type: "string", default: "127.0.0.1" },
    config: { type: "string", default: "tools/cloud/machine.example.json" },
    db: { type: "string", default: ".data/cloud.db" },
    part: { type: "string" },
    secret: { type: "string" },
    tls: { type: "boolean", default: false },
    component: { type: "string" },
    method: { type: "string" },
    list: { type: "boolean", default: false },
    limit: { type: "string", default: "20" },
    url: { type: "string", default: "http://127.0.0.1:8080" },
    readings: { type: "string", default: "100" },
    ca: { type: "string" },
  },
});

if (positionals[0] === "query") {
  if (!fs.existsSync(values.db)) {
    console.error(`no database at ${values.db} (start the cloud first, or pass --db)`);
    process.exit(1);
  }
  const store = new ReadingStore(values.db);
  const filter = {
    ...(values.part ? { partId: values.part } : {}),
    ...(values.component ? { componentName: values.component } : {}),
    ...(values.method ? { methodName: values.method } : {}),
  };
  const counts = store.counts(filter);
  console.log(
    "part                                  component         method               readings  uploads",
  );
  for (const c of counts) {
    console.log(
      `${c.partId.padEnd(37)} ${c.componentName.padEnd(17)} ${c.methodName.padEnd(20)} ${String(c.count).padStart(8)} ${String(c.uploads).padStart(8)}`,
    );
  }
  console.log(`total readings: ${store.count(filter)}`);
  if (values.list) {
    const all = store.readings(filter);
    for (const r of all.slice(-Number(values.limit))) {
      const t = r.timeRequestedMs === null ? "-" : new Date(r.timeRequestedMs).toISOString();
      console.log(`#${r.id} ${t} ${r.componentName}/${r.methodName} ${JSON.stringify(r.data)}`);
    }
  }
  store.close();
} else if (positionals[0] === "send") {
  const part = values.part ?? process.env.CAPSYNC_PART_ID ?? "local-part";
  const secret = values.secret ?? process.env.CAPSYNC_PART_SECRET ?? "local-secret";
  const transport = new NodeHttpTransport(
    values.url,
    values.ca ? { ca: fs.readFileSync(values.ca, "utf8") } : {},
  );
  const client = new CloudClient({ transport, partId: part, secret });
  const config = await client.config();
  console.log(`config revision ${config.revision}: ${config.components.map((c) => c.name).join(", ")}`);
  const total = Number(values.readings);
  const w = new ProtoWriter();
  const now = Date.now();
  let sent = 0;
  while (sent < total) {
    const data: Uint8Array[] = [];
    for (let i = 0; i < 50 && sent < total; i++, sent++) {
      w.reset();
      const t = now - (total - sent) * 100;
      const temp = 20 + 5 * Math.sin(sent / 20);
      data.push(
        new Uint8Array(
          encodeSensorData(w, t, t + 1, { readings: { temperature: temp, humidity: 40 + (sent % 10) } }),
        ),
      );
    }
    const meta = {
      partId: part,
      componentType: "rdk:component:sensor",
      componentName: values.component ?? "env",
      methodName: "Readings",
      type: DATA_TYPE_TABULAR_SENSOR,
    };
    const fileId = await client.dataCaptureUpload(encodeUploadRequest(new ProtoWriter(), meta, data));
    console.log(`uploaded ${data.length} readings (file ${fileId})`);
  }
  transport.close();
} else {
  const config = JSON.parse(fs.readFileSync(values.config, "utf8"));
  fs.mkdirSync(path.dirname(values.db), { recursive: true });
  const part = values.part ?? process.env.CAPSYNC_PART_ID ?? "local-part";
  const secret = values.secret ?? process.env.CAPSYNC_PART_SECRET ?? "local-secret";
  const cloud = await startCloud({
    port: Number(values.port),
    host: values.host,
    dbPath: values.db,
    parts: [{ id: part, secret }],
    machineConfig: config,
    tls: values.tls,
    log: (line) => console.log(`${new Date().toISOString()} ${line}`),
  });
  if (cloud.ca) {
    fs.mkdirSync(".data", { recursive: true });
    fs.writeFileSync(".data/cloud-ca.pem", cloud.ca);
    console.log("CA certificate written to .data/cloud-ca.pem");
  }
  console.log(`local cloud on ${cloud.url}  (part id "${part}", database ${values.db})`);
  console.log(`readings: ${cloud.url}/cloud/counts   ${cloud.url}/cloud/readings?limit=20`);
  // Re-read the machine config file when it changes: the revision moves and devices pick it up.
  fs.watchFile(values.config, { interval: 1000 }, () => {
    try {
      const revision = cloud.setConfig(JSON.parse(fs.readFileSync(values.config, "utf8")));
      console.log(`machine config reloaded: revision ${revision}`);
    } catch (error) {
      console.error(`machine config not reloaded: ${(error as Error).message}`);
    }
  });
  const stop = async () => {
    fs.unwatchFile(values.config);
    await cloud.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
