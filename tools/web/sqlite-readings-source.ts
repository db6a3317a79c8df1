/*
 * The browse page's view of the local cloud's SQLite store (tools/cloud's
 * `readings` table, schema in docs/cloud.md).
 *
 * The page polls every second while a 200 Hz stream keeps adding rows, so the
 * per-stream summary is kept incrementally: each call aggregates only rows
 * with an id above the last one seen (ids only grow, and an upload's rows
 * commit together), instead of re-scanning the whole table.
 */
import type Database from "better-sqlite3";
import type { ReadingsSource, StoredReading, StreamRef, StreamSummary } from "./readings-source.ts";

interface AggregateRow {
  part_id: string;
  component_type: string;
  component_name: string;
  method_name: string;
  n: number;
  first_ms: number | null;
  last_ms: number | null;
  max_id: number;
}

/** min/max where NaN means "unknown" rather than poisoning the result. */
function pick(choose: (a: number, b: number) => number, a: number, b: number): number {
  if (Number.isNaN(a)) return b;
  if (Number.isNaN(b)) return a;
  return choose(a, b);
}

export class SqliteReadingsSource implements ReadingsSource {
  private readonly newRows: Database.Statement;
  private readonly latestRows: Database.Statement;
  private readonly summaries = new Map<string, StreamSummary>();
  private lastId = 0;

  constructor(db: Database.Database) {
    this.newRows = db.prepare(
      `SELECT part_id, component_type, component_name, method_name, COUNT(*) AS n,
              MIN(time_requested_ms) AS first_ms, MAX(time_requested_ms) AS last_ms, MAX(id) AS max_id
       FROM readings WHERE id > ?
       GROUP BY part_id, component_type, component_name, method_name`,
    );
    // Matches the readings_by_source index (part, component, method, id) so the newest rows are found without a scan.
    this.latestRows = db.prepare(
      `SELECT time_requested_ms AS t, data_json AS data FROM readings
       WHERE part_id = ? AND component_name = ? AND method_name = ? AND component_type = ?
       ORDER BY id DESC LIMIT ?`,
    );
  }

  streams(): StreamSummary[] {
    const rows = this.newRows.all(this.lastId) as AggregateRow[];
    for (const row of rows) {
      const key = `${row.part_id}\u0000${row.component_type}\u0000${row.component_name}\u0000${row.method_name}`;
      const first = row.first_ms ?? Number.NaN;
      const last = row.last_ms ?? Number.NaN;
      const known = this.summaries.get(key);
      if (known) {
        known.count += row.n;
        known.firstMs = pick(Math.min, known.firstMs, first);
        known.lastMs = pick(Math.max, known.lastMs, last);
      } else {
        this.summaries.set(key, {
          partId: row.part_id,
          componentType: row.component_type,
          componentName: row.component_name,
          method: row.method_name,
          count: row.n,
          firstMs: first,
          lastMs: last,
        });
      }
      if (row.max_id > this.lastId) this.lastId = row.max_id;
    }
    return [...this.summaries.values()]
      .map((s) => ({ ...s }))
      .sort((a, b) => a.componentName.localeCompare(b.componentName) || a.method.localeCompare(b.method));
  }

  latest(stream: StreamRef, limit: number): StoredReading[] {
    const rows = this.latestRows.all(
      stream.partId,
      stream.componentName,
      stream.method,
      stream.componentType,
      limit,
    ) as { t: number | null; data: string | null }[];
    const out: StoredReading[] = [];
    for (let i = rows.length - 1; i >= 0; i--) {
      const row = rows[i]!;
      if (row.t === null) continue;
      // A reading the store kept but cannot parse is not plottable; it still counts in the summary.
      let data: unknown = null;
      try {
        data = row.data === null ? null : JSON.parse(row.data);
      } catch {
        data = null;
      }
      out.push({ timeMs: row.t, data });
    }
    return out;
  }
}
