// `npm run bench -- sync`: sync against the local cloud on loopback.
//   drainReadingsPerSecond   real time to upload a 1 MiB flash backlog (plain HTTP; TLS alongside)
//   wireBytesPerReading      DataCaptureUploadRequest bytes per reading, vs
//   sensorDataBytesPerReading the SensorData bytes alone, and flashBytesPerReading
//   tlsHandshakesPer100Uploads with the keep-alive transport against the TLS cloud (goal 1)
//   duplicatesPer1000AckLosses duplicate uploads the cloud stores per 1000 lost acknowledgements
//                            (1000 = each loss re-sends exactly its one chunk, never more)

import { performance } from "node:perf_hooks";
import { Rig, settingsFor } from "../host-tests/support/sync-rig";
import { xsFigures } from "./xs-entry";

const BACKLOG_BYTES = 1024 * 1024;
const COLLECTORS = [
  { name: "imu-a", type: "sensor", hz: 200, sectors: 80 },
  { name: "imu-b", type: "sensor", hz: 200, sectors: 80 },
  { name: "wheel-l", type: "encoder", hz: 200, sectors: 80 },
  { name: "wheel-r", type: "encoder", hz: 200, sectors: 80 },
] as const;

interface Drain {
  /** One status() with the whole backlog pending (it counts readings in flash). */
  statusMs: number;
  readings: number;
  seconds: number;
  flashBytes: number;
  requestBytes: number;
  sensorDataBytes: number;
  uploads: number;
}

async function drain(tls: boolean): Promise<Drain> {
  const rig = await new Rig({ tls, flashBytes: 2 * 1024 * 1024 }).start();
  try {
    const manager = rig.boot(settingsFor([...COLLECTORS], { sync_disabled: true }));
    while (manager.status().flash.usedBytes < BACKLOG_BYTES) await rig.run(5_000, 1_000);
    manager.capture.flush();
    const statusStarted = performance.now();
    const before = manager.status();
    const statusMs = performance.now() - statusStarted;
    const flashBytes = before.flash.usedBytes;
    const readings = before.collectors.reduce((n, c) => n + c.inFlash, 0);
    const started = performance.now();
    const result = await manager.syncNow();
    const seconds = (performance.now() - started) / 1000;
    if (!result.ok) throw new Error(`drain failed: ${result.error?.reason}`);
    const db = rig.cloud.store.db;
    // Request bodies as the device sent them (DataCaptureUploadRequest, before gRPC-web framing).
    const counters = Object.values(manager.status().sync.collectors);
    const uploads = {
      n: counters.reduce((n, c) => n + c.requests, 0),
      bytes: counters.reduce((n, c) => n + c.bytesSent, 0),
    };
    const sensor = db
      .prepare("SELECT SUM(LENGTH(sensor_data)) AS bytes, COUNT(*) AS n FROM readings")
      .get() as {
      bytes: number;
      n: number;
    };
    if (sensor.n !== readings) throw new Error(`cloud holds ${sensor.n} readings, expected ${readings}`);
    return {
      statusMs,
      readings,
      seconds,
      flashBytes,
      requestBytes: uploads.bytes,
      sensorDataBytes: sensor.bytes,
      uploads: uploads.n,
    };
  } finally {
    await rig.stop();
  }
}

async function handshakes(
  uploadsWanted: number,
): Promise<{ uploads: number; handshakes: number; connections: number }> {
  const rig = await new Rig({ tls: true }).start();
  try {
    rig.boot(
      settingsFor([{ name: "t", type: "sensor", hz: 10 }], {
        sync_interval_mins: 0.01,
        flush_interval_secs: 0.5,
      }),
    );
    while (rig.transport.stats.requests < uploadsWanted + 1) await rig.run(600, 600);
    return {
      uploads: rig.client.counters.calls,
      handshakes: rig.transport.stats.tlsHandshakes,
      connections: rig.transport.stats.connections,
    };
  } finally {
    await rig.stop();
  }
}

async function ackLosses(
  losses: number,
): Promise<{ losses: number; duplicateUploads: number; duplicateReadings: number }> {
  const rig = await new Rig().start();
  try {
    const manager = rig.boot(
      settingsFor([{ name: "d", type: "sensor", hz: 20 }], { flush_interval_secs: 1 }),
    );
    for (let i = 0; i < losses; i++) {
      rig.cloud.faults.add({ kind: "ack-lost", method: "DataCaptureUpload" });
      await rig.nextRound(); // the lost acknowledgement
      await rig.nextRound(); // the retry, 200 ms later
    }
    await manager.syncNow();
    const values = rig.cloudValues("d");
    const unique = new Set(values).size;
    const fired = rig.cloud.faults.counts["ack-lost"] ?? 0;
    // A duplicate upload: one carrying readings the cloud already had (a re-sent chunk, perhaps with newer readings after it).
    const rows = rig.cloud.store.db
      .prepare("SELECT upload_id, data_json FROM readings ORDER BY id")
      .all() as { upload_id: number; data_json: string }[];
    const seen = new Set<number>();
    const byUpload = new Map<number, boolean>();
    for (const r of rows) {
      const n = (JSON.parse(r.data_json) as { readings: { n: number } }).readings.n;
      const dup = seen.has(n);
      seen.add(n);
      byUpload.set(r.upload_id, (byUpload.get(r.upload_id) ?? false) || dup);
    }
    const duplicateUploads = [...byUpload.values()].filter(Boolean).length;
    return { losses: fired, duplicateUploads, duplicateReadings: values.length - unique };
  } finally {
    await rig.stop();
  }
}

await drain(false); // warm-up: JIT and module loading, not measured
const plain = await drain(false);
const xs = xsFigures<{
  xsReadings: number;
  xsRequests: number;
  xsRequestBytes: number;
  xsMsPerRequest: number;
  xsUsPerReading: number;
  error?: string;
}>("bench/xs/sync-encode.ts");
if (xs.error) throw new Error(`XS: ${xs.error}`);
const secure = await drain(true);
const hs = await handshakes(100);
const acks = await ackLosses(100);

const figures = {
  drainReadingsPerSecond: Math.round(plain.readings / plain.seconds),
  drainReadingsPerSecondTls: Math.round(secure.readings / secure.seconds),
  drainBacklogBytes: plain.flashBytes,
  drainReadings: plain.readings,
  drainUploads: plain.uploads,
  wireBytesPerReading: +(plain.requestBytes / plain.readings).toFixed(2),
  sensorDataBytesPerReading: +(plain.sensorDataBytes / plain.readings).toFixed(2),
  flashBytesPerReading: +(plain.flashBytes / plain.readings).toFixed(2),
  tlsHandshakesPer100Uploads: +((100 * hs.handshakes) / hs.uploads).toFixed(2),
  duplicatesPer1000AckLosses: Math.round((1000 * acks.duplicateUploads) / acks.losses),
  duplicateReadingsPerAckLoss: +(acks.duplicateReadings / acks.losses).toFixed(1),
  statusMsWith1MiBPending: +plain.statusMs.toFixed(2),
  xsMsPerRequest: +xs.xsMsPerRequest.toFixed(2),
  xsUsPerReading: +xs.xsUsPerReading.toFixed(2),
  xsBytesPerRequest: Math.round(xs.xsRequestBytes / xs.xsRequests),
};

const rows: [string, string, string][] = [
  [
    "drain 1 MiB backlog, HTTP",
    `${figures.drainReadingsPerSecond} readings/s`,
    `${plain.readings} readings, ${plain.uploads} uploads, ${plain.seconds.toFixed(2)} s`,
  ],
  [
    "drain 1 MiB backlog, TLS",
    `${figures.drainReadingsPerSecondTls} readings/s`,
    `${secure.seconds.toFixed(2)} s`,
  ],
  ["request bytes per reading", `${figures.wireBytesPerReading}`, "DataCaptureUploadRequest body"],
  [
    "SensorData bytes per reading",
    `${figures.sensorDataBytesPerReading}`,
    `request overhead ${((figures.wireBytesPerReading / figures.sensorDataBytesPerReading - 1) * 100).toFixed(1)}%`,
  ],
  ["flash bytes per reading", `${figures.flashBytesPerReading}`, "ring store incl. framing"],
  [
    "TLS handshakes per 100 uploads",
    `${figures.tlsHandshakesPer100Uploads}`,
    `${hs.handshakes} handshake(s), ${hs.connections} connection(s) over ${hs.uploads} calls`,
  ],
  [
    "duplicate uploads per 1000 ack losses",
    `${figures.duplicatesPer1000AckLosses}`,
    `${acks.losses} losses, ${figures.duplicateReadingsPerAckLoss} readings re-sent per loss`,
  ],
  ["status() with 1 MiB pending", `${figures.statusMsWith1MiBPending} ms`, "Node; counts readings in flash"],
  [
    "XS: read + transcode + encode one request",
    `${figures.xsMsPerRequest} ms`,
    `${figures.xsBytesPerRequest} B requests, ${figures.xsUsPerReading} µs/reading (device work only)`,
  ],
];
console.log("sync (local cloud on loopback)");
for (const [what, value, note] of rows) console.log(`  ${what.padEnd(40)} ${value.padEnd(22)} ${note}`);
console.log(`BENCH ${JSON.stringify({ key: "sync", figures })}`);
