/*
 * The cloud dies under the simulator app: a loopback proxy between mcsim and
 * the local cloud kills the connection at three moments, and stays down for a
 * few seconds each time (the port refuses connections) before it returns.
 *
 *   between-requests  the cloud answers a request completely, then its end of
 *                     the connection is gone (FIN): the app's next write on
 *                     the kept-alive socket meets a dead peer
 *   mid-request       half of an upload request reached the cloud, then RST
 *   mid-response      the cloud stored an upload; half of its answer reached
 *                     the app, then RST (the documented lost-acknowledgement
 *                     window: that one chunk is sent exactly once more)
 *
 * Judged from outside: mcsim must still run after every kill (before the
 * project's SIGPIPE fix a write to the vanished peer killed it, exit signal
 * SIGPIPE), and the cloud's database must hold every reading of the window,
 * once — the only repeats being readings of an upload whose answer was cut,
 * sent exactly once more (the re-sent chunk is rebuilt from flash and may
 * carry newer readings too).
 */
import * as net from "node:net";
import type { Cloud, Reading } from "../../tools/cloud/index";
import type { RunningSimulator } from "../../tools/sim/simulator";
import { sleep } from "../../tools/sim/simulator";

export type DyingMode = "between-requests" | "mid-request" | "mid-response";

const UPLOAD_PATH = "/viam.app.datasync.v1.DataSyncService/DataCaptureUpload";

export interface DyingProxy {
  /** What the app is built to call: "http://127.0.0.1:<port>". */
  readonly url: string;
  /** Kills so far per mode. */
  readonly kills: Record<DyingMode, number>;
  /** Arm one kill; resolves when it happened (the proxy is then down until `revive()`). */
  kill(mode: DyingMode, timeoutMs: number): Promise<void>;
  revive(): Promise<void>;
  close(): Promise<void>;
}

/** End of one HTTP/1.1 message body in `bytes` after the head, or -1 while incomplete. */
function messageEnd(bytes: Buffer): number {
  const headEnd = bytes.indexOf("\r\n\r\n");
  if (headEnd < 0) return -1;
  const head = bytes.subarray(0, headEnd).toString("latin1").toLowerCase();
  const bodyStart = headEnd + 4;
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (length) {
    const end = bodyStart + Number(length[1]);
    return bytes.length >= end ? end : -1;
  }
  if (/\r\ntransfer-encoding:\s*chunked/.test(head)) {
    const terminator = bytes.indexOf("\r\n0\r\n\r\n", bodyStart - 2);
    return terminator < 0 ? -1 : terminator + 7;
  }
  return bodyStart;
}

export async function startDyingProxy(target: string): Promise<DyingProxy> {
  const upstreamUrl = new URL(target);
  const kills: Record<DyingMode, number> = { "between-requests": 0, "mid-request": 0, "mid-response": 0 };
  let armed: { mode: DyingMode; fired: () => void } | undefined;
  let up = true;
  const open = new Set<net.Socket>();

  const fire = (): void => {
    const a = armed;
    if (!a) return;
    armed = undefined;
    kills[a.mode]++;
    up = false;
    // The cloud is gone: every connection dies with it and the port refuses until revive().
    for (const s of open) s.resetAndDestroy();
    server.close();
    a.fired();
  };

  const onConnection = (client: net.Socket): void => {
    if (!up) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: upstreamUrl.hostname, port: Number(upstreamUrl.port) });
    open.add(client);
    open.add(upstream);
    const forget = (): void => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", forget);
    upstream.on("error", forget);
    client.on("close", forget);
    upstream.on("close", forget);
    let request = Buffer.alloc(0);
    let response = Buffer.alloc(0);
    let lastRequestIsUpload = false;

    client.on("data", (chunk: Buffer) => {
      request = Buffer.concat([request, chunk]);
      const startsRequest = request.length === chunk.length;
      if (startsRequest) lastRequestIsUpload = request.includes(UPLOAD_PATH);
      if (armed?.mode === "mid-request" && lastRequestIsUpload) {
        // Half of what arrived reaches the cloud, then both ends die.
        upstream.write(chunk.subarray(0, Math.max(1, chunk.length >> 1)), () => fire());
        return;
      }
      const end = messageEnd(request);
      if (end >= 0) request = request.subarray(end);
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (armed?.mode === "mid-response" && lastRequestIsUpload) {
        client.write(chunk.subarray(0, Math.max(1, chunk.length >> 1)), () => fire());
        return;
      }
      response = Buffer.concat([response, chunk]);
      const end = messageEnd(response);
      if (end >= 0 && armed?.mode === "between-requests") {
        // The whole answer, then the cloud's end of the connection is gone (FIN, not RST).
        client.end(chunk);
        upstream.destroy();
        open.delete(client);
        fire();
        return;
      }
      if (end >= 0) response = response.subarray(end);
      client.write(chunk);
    });
  };

  const server = net.createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    kills,
    kill(mode, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          armed = undefined;
          reject(new Error(`no ${mode} moment came within ${timeoutMs} ms`));
        }, timeoutMs);
        armed = {
          mode,
          fired: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
    async revive() {
      up = true;
      if (!server.listening) await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    },
    async close() {
      for (const s of open) s.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface CloudDyingContext {
  sim: RunningSimulator;
  cloud: Cloud;
  proxy: DyingProxy;
  check: (name: string, body: () => Promise<void>) => Promise<void>;
  /** Kills per mode; 3 by default. */
  rounds?: number;
}

function alive(sim: RunningSimulator, when: string): void {
  const exit = sim.exit;
  if (exit) {
    throw new Error(
      `mcsim died ${when}: ${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}`,
    );
  }
}

/**
 * Whether sync is failing anywhere (the link, or a collector in its own backoff) after line `from`
 * of the app's trace: each failure line names what failed, each recovery line clears it.
 */
function stillFailing(sim: RunningSimulator, from: number): boolean {
  const failing = new Set<string>();
  for (const line of sim.lines.slice(from)) {
    const failed = /sync (\S+): upload failed/.exec(line);
    const recovered = /sync (\S+): recovered after/.exec(line);
    if (/sync: no answer from the cloud/.test(line)) failing.add("link");
    else if (/sync: the cloud answers again/.test(line)) failing.delete("link");
    else if (failed) failing.add(failed[1]!);
    else if (recovered) failing.delete(recovered[1]!);
  }
  return failing.size > 0;
}

/** Readings of one collector sorted by capture time. */
function byTime(cloud: Cloud, component: string, method: string): Reading[] {
  return cloud
    .readings({ componentName: component, methodName: method })
    .sort((a, b) => (a.timeRequestedMs ?? 0) - (b.timeRequestedMs ?? 0));
}

export async function cloudDyingChecks(context: CloudDyingContext): Promise<void> {
  const { sim, cloud, proxy, check } = context;
  const cutUploads = new Set<number>();
  const rounds = context.rounds ?? 3;
  const windowStart = Date.now();

  for (const mode of ["between-requests", "mid-request", "mid-response"] as const) {
    await check(`mcsim survives the cloud dying ${mode} (${rounds} times) and syncs again`, async () => {
      alive(sim, `before the cloud died ${mode}`);
      for (let round = 1; round <= rounds; round++) {
        const from = sim.lines.length;
        try {
          await proxy.kill(mode, 40_000);
          // A response is cut after the cloud stored the upload: the newest upload is the cut one.
          if (mode === "mid-response")
            cutUploads.add(Math.max(0, ...cloud.readings().map((r) => r.uploadId)));
          await sleep(2_000); // down: connections refused
        } finally {
          await proxy.revive();
        }
        alive(sim, `after the cloud died ${mode} (kill ${round})`);
        const uploads = cloud.stats.uploads;
        // Back means sync succeeded again everywhere (the link and every collector that failed have
        // logged their recovery: their backoffs are reset), not just one chunk: the next kill then
        // starts from a short backoff instead of doubling an unbroken failure streak into minutes.
        const deadline = Date.now() + 120_000;
        const back = (): boolean => cloud.stats.uploads > uploads && !stillFailing(sim, from);
        while (!back()) {
          alive(sim, `while the cloud was back after kill ${round} ${mode}`);
          if (Date.now() > deadline) {
            throw new Error(`no successful sync round within 120 s of the cloud's return (kill ${round})`);
          }
          await sleep(250);
        }
      }
      alive(sim, `after ${rounds} kills ${mode}`);
    });
  }

  await check(
    "every reading of the dying-cloud window is in the cloud once (bar re-sent cut chunks)",
    async () => {
      const windowEnd = Date.now() - 4_000;
      // Everything captured before windowEnd arrives within a few sync rounds (or one long backoff).
      const deadline = Date.now() + 150_000;
      const latest = (): number =>
        Math.max(0, ...byTime(cloud, "env", "Readings").map((r) => r.timeRequestedMs ?? 0));
      while (latest() < windowEnd) {
        if (Date.now() > deadline) throw new Error("env readings stopped arriving after the kills");
        await sleep(500);
      }
      const cuts = proxy.kills["mid-response"];
      // Cut uploads whose readings came again.
      const resentUploads = new Set<number>();
      const repeats = new Set<string>();
      for (const [component, method, hz] of [
        ["env", "Readings", 2],
        ["imu", "AngularVelocity", 25],
      ] as const) {
        const rows = byTime(cloud, component, method).filter(
          (r) => (r.timeRequestedMs ?? 0) >= windowStart && (r.timeRequestedMs ?? 0) <= windowEnd,
        );
        if (rows.length < 10)
          throw new Error(`${component}/${method}: only ${rows.length} readings in the window`);
        const firstUpload = new Map<number, number>();
        for (const r of rows) {
          const t = r.timeRequestedMs ?? 0;
          const seen = firstUpload.get(t);
          if (seen === undefined) firstUpload.set(t, r.uploadId);
          else {
            // A repeat is allowed only for a reading of an upload whose acknowledgement was cut,
            // and only once (the re-sent chunk may carry newer readings too: it is rebuilt from flash).
            if (!cutUploads.has(seen)) {
              throw new Error(
                `${component}/${method}: reading at ${t} repeated, but upload ${seen} was never cut`,
              );
            }
            if (repeats.has(`${component}/${method}@${t}`)) {
              throw new Error(`${component}/${method}: reading at ${t} stored three times or more`);
            }
            repeats.add(`${component}/${method}@${t}`);
            resentUploads.add(seen);
          }
        }
        // No gap: a lost chunk (one sync round, ~3 s of readings) would open one; the nominal
        // spacing is 1/hz, and 2.5 s leaves room for a stalled machine without hiding a lost chunk.
        const times = [...firstUpload.keys()].sort((a, b) => a - b);
        for (let i = 1; i < times.length; i++) {
          if (times[i]! - times[i - 1]! > 2_500) {
            throw new Error(
              `${component}/${method}: no reading between ${new Date(times[i - 1]!).toISOString()} and ${new Date(times[i]!).toISOString()} (nominal spacing ${1000 / hz} ms)`,
            );
          }
        }
      }
      if (resentUploads.size > cuts) {
        throw new Error(`${resentUploads.size} re-sent chunks for ${cuts} cut responses`);
      }
      console.log(
        `     sim › dying cloud: kills ${JSON.stringify(proxy.kills)}, cut chunks re-sent: ${resentUploads.size} (${repeats.size} readings twice)`,
      );
    },
  );
}
