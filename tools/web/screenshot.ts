/*
 * Screenshot of the browse page in headless chromium, for docs and for
 * checking the page by eye:
 *   node --import tsx tools/web/screenshot.ts http://127.0.0.1:8080/ page.png
 */
import { launchHeadlessChromium } from "./headless-browser.ts";

const [url, out] = process.argv.slice(2);
if (!url || !out) {
  console.error("usage: node --import tsx tools/web/screenshot.ts URL OUT.png");
  process.exit(2);
}
const browser = await launchHeadlessChromium();
try {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(url);
  await page.waitForSelector(".card polyline", { timeout: 20_000 });
  // Two polls so the rate column has a value.
  await page.waitForTimeout(2500);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`screenshot: ${out}`);
} finally {
  await browser.close();
}
