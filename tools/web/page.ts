/*
 * The browse page is one self-contained HTML file (inline CSS and script, SVG
 * plots): the demo must work on a machine without internet, so no CDN.
 */
import * as fs from "node:fs";
import * as path from "node:path";

const pagePath = path.join(import.meta.dirname, "page.html");

export function browsePage(): string {
  return fs.readFileSync(pagePath, "utf8");
}
