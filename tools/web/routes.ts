/*
 * The browse page and its JSON API, mounted on the local cloud's HTTP server
 * (the cloud hands every non-RPC request to an extra-routes handler).
 *
 *   GET /                      the page (self-contained: no CDN, the machine may be offline)
 *   GET /api/streams           {total, generatedAt, streams: StreamSummary[]}
 *   GET /api/series?part=&type=&name=&method=&limit=   {stream, count, series: Series}
 *
 * Anything else is left to the caller (returns false).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { browsePage } from "./page.ts";
import type { ReadingsSource, StreamRef } from "./readings-source.ts";
import { toSeries } from "./series.ts";

/** Newest readings per plot by default; enough to see a 200 Hz stream's last seconds. */
const defaultSeriesLimit = 400;
const maxSeriesLimit = 5000;

export type WebRoutes = (request: IncomingMessage, response: ServerResponse) => boolean;

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

function parseLimit(raw: string | null): number | string {
  if (raw === null || raw === "") return defaultSeriesLimit;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) return `limit must be a positive integer, got "${raw}"`;
  return Math.min(n, maxSeriesLimit);
}

export function createWebRoutes(source: ReadingsSource): WebRoutes {
  const page = browsePage();
  return (request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (request.method !== "GET" && request.method !== "HEAD") return false;
    try {
      if (url.pathname === "/" || url.pathname === "/index.html") {
        response.writeHead(200, {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-store",
          "content-length": Buffer.byteLength(page),
        });
        response.end(request.method === "HEAD" ? undefined : page);
        return true;
      }
      if (url.pathname === "/api/streams") {
        const streams = source.streams();
        const total = streams.reduce((sum, s) => sum + s.count, 0);
        sendJson(response, 200, { total, generatedAt: Date.now(), streams });
        return true;
      }
      if (url.pathname === "/api/series") {
        const stream: StreamRef = {
          partId: url.searchParams.get("part") ?? "",
          componentType: url.searchParams.get("type") ?? "",
          componentName: url.searchParams.get("name") ?? "",
          method: url.searchParams.get("method") ?? "",
        };
        if (!stream.componentName || !stream.method) {
          sendJson(response, 400, { error: "name and method query parameters are required" });
          return true;
        }
        const limit = parseLimit(url.searchParams.get("limit"));
        if (typeof limit === "string") {
          sendJson(response, 400, { error: limit });
          return true;
        }
        const readings = source.latest(stream, limit);
        sendJson(response, 200, { stream, count: readings.length, series: toSeries(readings) });
        return true;
      }
    } catch (error) {
      // A store error must show up in the page (and logs), not kill the cloud's server.
      sendJson(response, 500, { error: error instanceof Error ? error.message : String(error) });
      return true;
    }
    return false;
  };
}
