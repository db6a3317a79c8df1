/*
 * Durable storage of everything the local cloud receives, in SQLite
 * (better-sqlite3). Schema (also in docs/cloud.md):
 *
 *   uploads   one row per DataCaptureUpload call that was stored
 *   readings  one row per SensorData, with the upload's metadata copied in so
 *             queries per part/component/method need no join
 *
 * Each upload is one transaction: either all its readings land or none do.
 */

import Database from "better-sqlite3";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS uploads (
  id             INTEGER PRIMARY KEY,
  file_id        TEXT    NOT NULL UNIQUE,
  received_at_ms INTEGER NOT NULL,
  part_id        TEXT    NOT NULL,
  component_type TEXT    NOT NULL,
  component_name TEXT    NOT NULL,
  method_name    TEXT    NOT NULL,
  data_type      INTEGER NOT NULL,
  tags           TEXT    NOT NULL,
  reading_count  INTEGER NOT NULL,
  request_bytes  INTEGER NOT NULL,
  protocol       TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS readings (
  id                INTEGER PRIMARY KEY,
  upload_id         INTEGER NOT NULL REFERENCES uploads(id),
  part_id           TEXT    NOT NULL,
  component_type    TEXT    NOT NULL,
  component_name    TEXT    NOT NULL,
  method_name       TEXT    NOT NULL,
  time_requested_ms REAL,
  time_received_ms  REAL,
  data_json         TEXT,
  binary            BLOB,
  sensor_data       BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS readings_by_source ON readings (part_id, component_name, method_name, id);
`;

export interface UploadRecord {
  fileId: string;
  partId: string;
  componentType: string;
  componentName: string;
  methodName: string;
  dataType: number;
  tags: string[];
  requestBytes: number;
  protocol: string;
  readings: ReadingInput[];
}

export interface ReadingInput {
  timeRequestedMs: number | null;
  timeReceivedMs: number | null;
  /** The Struct payload as plain JSON, or null for binary data. */
  data: unknown;
  binary: Uint8Array | null;
  /** The SensorData message as protobuf bytes (re-encoded by protobuf-es on arrival). */
  sensorData: Uint8Array;
}

export interface Reading {
  id: number;
  uploadId: number;
  partId: string;
  componentType: string;
  componentName: string;
  methodName: string;
  timeRequestedMs: number | null;
  timeReceivedMs: number | null;
  data: unknown;
  binary: Uint8Array | null;
  sensorData: Uint8Array;
}

export interface ReadingFilter {
  partId?: string;
  componentName?: string;
  methodName?: string;
  /** Only readings with id greater than this (for paging / tailing). */
  afterId?: number;
  limit?: number;
}

export interface ReadingCount {
  partId: string;
  componentType: string;
  componentName: string;
  methodName: string;
  count: number;
  uploads: number;
  firstTimeRequestedMs: number | null;
  lastTimeRequestedMs: number | null;
}

interface ReadingRow {
  id: number;
  upload_id: number;
  part_id: string;
  component_type: string;
  component_name: string;
  method_name: string;
  time_requested_ms: number | null;
  time_received_ms: number | null;
  data_json: string | null;
  binary: Buffer | null;
  sensor_data: Buffer;
}

function where(filter: ReadingFilter): { sql: string; args: unknown[] } {
  const clauses: string[] = [];
  const args: unknown[] = [];
  if (filter.partId !== undefined) {
    clauses.push("part_id = ?");
    args.push(filter.partId);
  }
  if (filter.componentName !== undefined) {
    clauses.push("component_name = ?");
    args.push(filter.componentName);
  }
  if (filter.methodName !== undefined) {
    clauses.push("method_name = ?");
    args.push(filter.methodName);
  }
  if (filter.afterId !== undefined) {
    clauses.push("id > ?");
    args.push(filter.afterId);
  }
  return { sql: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", args };
}

export class ReadingStore {
  readonly db: Database.Database;
  private readonly insertUpload: Database.Statement;
  private readonly insertReading: Database.Statement;
  private readonly storeTx: (record: UploadRecord) => number;

  /** `path` ":memory:" (the default) or a file; a file survives restarts. */
  constructor(path = ":memory:") {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(SCHEMA);
    this.insertUpload = this.db.prepare(
      `INSERT INTO uploads (file_id, received_at_ms, part_id, component_type, component_name, method_name,
         data_type, tags, reading_count, request_bytes, protocol)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertReading = this.db.prepare(
      `INSERT INTO readings (upload_id, part_id, component_type, component_name, method_name,
         time_requested_ms, time_received_ms, data_json, binary, sensor_data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.storeTx = this.db.transaction((r: UploadRecord) => {
      const info = this.insertUpload.run(
        r.fileId,
        Date.now(),
        r.partId,
        r.componentType,
        r.componentName,
        r.methodName,
        r.dataType,
        JSON.stringify(r.tags),
        r.readings.length,
        r.requestBytes,
        r.protocol,
      );
      const uploadId = Number(info.lastInsertRowid);
      for (const reading of r.readings) {
        this.insertReading.run(
          uploadId,
          r.partId,
          r.componentType,
          r.componentName,
          r.methodName,
          reading.timeRequestedMs,
          reading.timeReceivedMs,
          reading.data === null ? null : JSON.stringify(reading.data),
          reading.binary,
          reading.sensorData,
        );
      }
      return uploadId;
    });
  }

  /** Store one upload atomically; returns its upload id. */
  store(record: UploadRecord): number {
    return this.storeTx(record);
  }

  readings(filter: ReadingFilter = {}): Reading[] {
    const w = where(filter);
    const limit = filter.limit !== undefined ? `LIMIT ${Math.max(0, Math.floor(filter.limit))}` : "";
    const rows = this.db
      .prepare(`SELECT * FROM readings ${w.sql} ORDER BY id ${limit}`)
      .all(...w.args) as ReadingRow[];
    return rows.map((row) => ({
      id: row.id,
      uploadId: row.upload_id,
      partId: row.part_id,
      componentType: row.component_type,
      componentName: row.component_name,
      methodName: row.method_name,
      timeRequestedMs: row.time_requested_ms,
      timeReceivedMs: row.time_received_ms,
      data: row.data_json === null ? null : JSON.parse(row.data_json),
      binary: row.binary === null ? null : new Uint8Array(row.binary),
      sensorData: new Uint8Array(row.sensor_data),
    }));
  }

  count(filter: ReadingFilter = {}): number {
    const w = where(filter);
    const row = this.db.prepare(`SELECT COUNT(*) AS n FROM readings ${w.sql}`).get(...w.args) as {
      n: number;
    };
    return row.n;
  }

  /** Reading counts grouped by part, component and method. */
  counts(filter: ReadingFilter = {}): ReadingCount[] {
    const w = where(filter);
    const rows = this.db
      .prepare(
        `SELECT part_id, component_type, component_name, method_name, COUNT(*) AS count,
                COUNT(DISTINCT upload_id) AS uploads,
                MIN(time_requested_ms) AS first_ms, MAX(time_requested_ms) AS last_ms
         FROM readings ${w.sql}
         GROUP BY part_id, component_type, component_name, method_name
         ORDER BY part_id, component_name, method_name`,
      )
      .all(...w.args) as {
      part_id: string;
      component_type: string;
      component_name: string;
      method_name: string;
      count: number;
      uploads: number;
      first_ms: number | null;
      last_ms: number | null;
    }[];
    return rows.map((r) => ({
      partId: r.part_id,
      componentType: r.component_type,
      componentName: r.component_name,
      methodName: r.method_name,
      count: r.count,
      uploads: r.uploads,
      firstTimeRequestedMs: r.first_ms,
      lastTimeRequestedMs: r.last_ms,
    }));
  }

  uploadCount(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM uploads").get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
