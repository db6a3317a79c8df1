/*
 * Launching Debian's chromium through playwright-core, for the browser test of
 * the browse page and for screenshots. playwright-core ships no browser: it
 * drives the system one. A missing chromium is an error with instructions,
 * never a reason to skip.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

export const chromiumPath = process.env.CAPSYNC_CHROMIUM ?? "/usr/bin/chromium";

export interface HeadlessBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchHeadlessChromium(): Promise<HeadlessBrowser> {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(
      `chromium not found at ${chromiumPath}: the browser test needs it. ` +
        "Install it with `apt-get install -y chromium` (.ci/run does), or point CAPSYNC_CHROMIUM at a chromium binary.",
    );
  }
  // A fresh profile per launch: no state leaks between tests or runs.
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "capsync-chromium-"));
  // Playwright takes the profile directory as launchPersistentContext's argument (it rejects --user-data-dir in args).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
