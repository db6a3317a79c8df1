/*
 * The one-line status printed every few seconds when stdout is not a
 * terminal (CI logs, pipes): greppable, no escape codes.
 */
import * as format from "./format.ts";
import { type DemoStatus, totals } from "./status.ts";

export function statusLine(status: DemoStatus): string {
  const t = totals(status);
  const parts = [
    `t=${format.clock(status.uptimeMs)}`,
    `boot=${status.boots}`,
    `net=${status.network}`,
    `captured=${t.captured}`,
    `in_flash=${t.inFlash}`,
    `synced=${t.synced}`,
    `dropped=${t.dropped}`,
    `lost=${t.lost}`,
    `pending=${t.pending}`,
    `missed=${status.collectors.reduce((n, c) => n + c.missed, 0)}`,
    `sync=${status.sync.state}`,
  ];
  if (status.sync.backoffMs > 0) parts.push(`backoff=${format.duration(status.sync.backoffMs)}`);
  if (status.sync.lastError) parts.push(`last_error="${status.sync.lastError.replaceAll('"', "'")}"`);
  parts.push(`cloud_readings=${status.cloudReadings}`);
  return `status: ${parts.join(" ")}`;
}
