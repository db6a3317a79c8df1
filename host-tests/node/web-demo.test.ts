// The browse page served by the demo's local cloud, in headless chromium,
// while the simulated device uploads: counts match the database, every
// stream is plotted, and the page follows new uploads live.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { Demo } from "../../tools/demo/demo.ts";
import { RecentLog } from "../../tools/demo/node-ports.ts";
import { launchHeadlessChromium } from "../../tools/web/headless-browser.ts";

test("browse page on the running demo: DB counts, plots, live updates", async () => {
  // The browser first: a missing chromium then fails the test instead of leaving a running demo
  // that keeps the test process alive forever.
  const browser = await launchHeadlessChromium();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capsync-web-demo-"));
  const demo = await Demo.start({
    dataDir: dir,
    port: 0,
    machineConfigPath: path.resolve(import.meta.dirname, "../../tools/demo/fallback-machine-config.json"),
    log: new RecentLog(),
  });
  try {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${demo.url}/`);
    // The demo's three streams appear once the first upload landed.
    await page.locator("#streams tbody tr").nth(2).waitFor({ timeout: 20_000 });

    // Freeze uploads so the page can be compared to a still database.
    demo.cutNetwork();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const dbTotal = demo.cloud.count();
    await page.waitForFunction(
      (n) => document.querySelector("#total")?.getAttribute("data-total") === String(n),
      dbTotal,
      { timeout: 10_000 },
    );
    const counts = demo.cloud.counts();
    assert.equal(counts.length, 3);
    for (const c of counts) {
      const id = `${c.partId}/${c.componentType}/${c.componentName}/${c.methodName}`;
      assert.equal(
        await page.locator(`#streams tr[data-stream="${id}"]`).getAttribute("data-count"),
        String(c.count),
      );
      const card = page.locator(`.card[data-stream="${id}"]`);
      const points = Number(await card.getAttribute("data-points"));
      assert.equal(points, Math.min(c.count, 400), `${id}: one point per reading shown`);
      const pointsInFirstLine = await card
        .locator("polyline")
        .first()
        .evaluate((e) => (e.getAttribute("points") ?? "").trim().split(/\s+/).length);
      assert.equal(pointsInFirstLine, points);
    }
    // The IMU plot has its three axes.
    const imuFields = await page
      .locator('.card[data-stream*="/imu/AngularVelocity"] polyline')
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-field")));
    assert.deepEqual(imuFields, ["angular_velocity.x", "angular_velocity.y", "angular_velocity.z"]);

    // Live: after the network returns, the page shows the new total without a reload.
    demo.restoreNetwork();
    await demo.syncNow();
    const grown = demo.cloud.count();
    assert.ok(grown > dbTotal);
    await page.waitForFunction(
      (n) => Number(document.querySelector("#total")?.getAttribute("data-total")) >= n,
      grown,
      { timeout: 10_000 },
    );
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await demo.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
