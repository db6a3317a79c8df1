// The browse page in a real headless chromium: what it shows must be what the
// cloud's database holds, and it must follow new uploads without a reload.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { ReadingStore, type UploadRecord } from "../../tools/cloud/store.ts";
import { type HeadlessBrowser, launchHeadlessChromium } from "../../tools/web/headless-browser.ts";
import { createWebRoutes } from "../../tools/web/routes.ts";
import { SqliteReadingsSource } from "../../tools/web/sqlite-readings-source.ts";

let dir: string;
let store: ReadingStore;
let server: http.Server;
let baseUrl: string;
let browser: HeadlessBrowser;
let uploads = 0;

function upload(
  componentType: string,
  name: string,
  method: string,
  n: number,
  data: (i: number) => unknown,
) {
  const t0 = Date.now() - n * 10;
  const record: UploadRecord = {
    fileId: `test-${uploads++}`,
    partId: "part-1",
    componentType,
    componentName: name,
    methodName: method,
    dataType: 2,
    tags: [],
    requestBytes: 0,
    protocol: "test",
    readings: Array.from({ length: n }, (_, i) => ({
      timeRequestedMs: t0 + i * 10,
      timeReceivedMs: t0 + i * 10 + 1,
      data: data(i),
      binary: null,
      sensorData: new Uint8Array(0),
    })),
  };
  store.store(record);
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "capsync-web-"));
  store = new ReadingStore(path.join(dir, "cloud.sqlite"));
  const routes = createWebRoutes(new SqliteReadingsSource(store.db));
  server = http.createServer((req, res) => {
    if (!routes(req, res)) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Fails (does not skip) when chromium is missing: CI installs it.
  browser = await launchHeadlessChromium();
});

after(async () => {
  await browser?.close();
  server?.close();
  store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("JSON API: per-stream counts equal the database's, series carry every numeric field", async () => {
  upload("rdk:component:movement_sensor", "imu", "AngularVelocity", 250, (i) => ({
    angular_velocity: { x: Math.sin(i / 20), y: i, z: -1 },
  }));
  upload("rdk:component:sensor", "temp", "Readings", 7, (i) => ({
    readings: { temperature_c: 20 + i, label: "x" },
  }));
  const body = (await (await fetch(`${baseUrl}/api/streams`)).json()) as {
    total: number;
    streams: { componentName: string; method: string; count: number }[];
  };
  const dbCounts = store.counts();
  assert.equal(body.total, store.count());
  assert.deepEqual(
    body.streams.map((s) => [s.componentName, s.method, s.count]).sort(),
    dbCounts.map((c) => [c.componentName, c.methodName, c.count]).sort(),
  );
  const series = (await (
    await fetch(
      `${baseUrl}/api/series?part=part-1&type=rdk:component:sensor&name=temp&method=Readings&limit=5`,
    )
  ).json()) as { count: number; series: { fields: string[]; times: number[]; values: number[][] } };
  // Newest five, oldest first; the string field is not plottable and is left out.
  assert.equal(series.count, 5);
  assert.deepEqual(series.series.fields, ["temperature_c"]);
  assert.deepEqual(series.series.values[0], [22, 23, 24, 25, 26]);
  assert.ok(series.series.times.every((t, i, a) => i === 0 || t > a[i - 1]!));

  const bad = await fetch(`${baseUrl}/api/series?name=temp&method=Readings&limit=abc`);
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /limit/);
  assert.equal((await fetch(`${baseUrl}/nope`)).status, 404);
});

test("page in headless chromium shows the database's counts, plots points, and updates live", async () => {
  const page = await browser.context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(baseUrl);

  const expectTotal = async (n: number) =>
    page.waitForFunction(
      (want) => document.querySelector("#total")?.getAttribute("data-total") === String(want),
      n,
      {
        timeout: 10_000,
      },
    );
  await expectTotal(store.count());

  for (const c of store.counts()) {
    const id = `${c.partId}/${c.componentType}/${c.componentName}/${c.methodName}`;
    const row = page.locator(`#streams tr[data-stream="${id}"]`);
    assert.equal(await row.getAttribute("data-count"), String(c.count), `table count for ${id}`);
    assert.equal((await row.locator(".count").textContent())?.replace(/,/g, ""), String(c.count));
  }

  // The IMU plot: one polyline per axis, each with one point per reading shown (250 < the page's 400 limit).
  const imu = page.locator('.card[data-stream="part-1/rdk:component:movement_sensor/imu/AngularVelocity"]');
  await imu.locator("polyline").first().waitFor();
  const lines = await imu
    .locator("polyline")
    .evaluateAll((els) =>
      els.map((e) => [
        e.getAttribute("data-field"),
        (e.getAttribute("points") ?? "").trim().split(/\s+/).length,
      ]),
    );
  assert.deepEqual(lines, [
    ["angular_velocity.x", 250],
    ["angular_velocity.y", 250],
    ["angular_velocity.z", 250],
  ]);
  // Points lie inside the plot area (the y scale follows the data).
  const ys = await imu
    .locator('polyline[data-field="angular_velocity.y"]')
    .evaluate((e) => (e.getAttribute("points") ?? "").split(" ").map((p) => Number(p.split(",")[1])));
  assert.ok(ys.every((y) => y >= 0 && y <= 190));
  assert.ok(ys[0]! > ys[ys.length - 1]!, "a rising series is drawn rising (SVG y grows downwards)");

  // New uploads appear without reloading: a new stream and a grown one.
  upload("rdk:component:board", "board", "Analogs", 12, (i) => ({ value: i * 3 }));
  upload("rdk:component:sensor", "temp", "Readings", 3, (i) => ({ readings: { temperature_c: 30 + i } }));
  await expectTotal(store.count());
  await page
    .locator('#streams tr[data-stream="part-1/rdk:component:sensor/temp/Readings"][data-count="10"]')
    .waitFor({ timeout: 10_000 });
  const board = page.locator('.card[data-stream="part-1/rdk:component:board/board/Analogs"]');
  await board.locator('polyline[data-field="value"]').waitFor({ timeout: 10_000 });
  assert.equal(await board.getAttribute("data-points"), "12");
  assert.match((await page.locator("#state-text").textContent()) ?? "", /^live/);
  assert.deepEqual(pageErrors, []);
  await page.close();
});
