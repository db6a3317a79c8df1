/*
 * Turning readings (arbitrary JSON Structs) into plottable series: every
 * numeric leaf becomes a field named by its path ("angular_velocity.x");
 * booleans plot as 0/1. Non-numeric leaves (strings, nulls) are not plottable
 * and are left out.
 */
import type { StoredReading } from "./readings-source.ts";

export interface Series {
  /** Field paths, in first-seen order. */
  fields: string[];
  /** Capture times (ms since epoch), one per reading. */
  times: number[];
  /** values[f][i] is field f of reading i, or null when that reading lacks it. */
  values: (number | null)[][];
}

function collectLeaves(value: unknown, prefix: string, out: Map<string, number>): void {
  if (typeof value === "number") {
    if (Number.isFinite(value)) out.set(prefix || "value", value);
  } else if (typeof value === "boolean") {
    out.set(prefix || "value", value ? 1 : 0);
  } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [name, inner] of Object.entries(value as Record<string, unknown>)) {
      collectLeaves(inner, prefix ? `${prefix}.${name}` : name, out);
    }
  }
}

/** Drops the wrapper level Viam puts around Readings ({readings: {...}}) so field names stay short. */
function unwrap(data: unknown): unknown {
  if (data !== null && typeof data === "object" && !Array.isArray(data)) {
    const keys = Object.keys(data);
    if (keys.length === 1 && keys[0] === "readings") return (data as Record<string, unknown>).readings;
  }
  return data;
}

export function toSeries(readings: StoredReading[]): Series {
  const fieldIndex = new Map<string, number>();
  const series: Series = { fields: [], times: [], values: [] };
  const leaves = new Map<string, number>();
  readings.forEach((reading, i) => {
    leaves.clear();
    collectLeaves(unwrap(reading.data), "", leaves);
    series.times.push(reading.timeMs);
    for (const [name, v] of leaves) {
      let f = fieldIndex.get(name);
      if (f === undefined) {
        f = series.fields.length;
        fieldIndex.set(name, f);
        series.fields.push(name);
        series.values.push(new Array<number | null>(i).fill(null));
      }
      series.values[f]!.push(v);
    }
    for (const column of series.values) if (column.length < i + 1) column.push(null);
  });
  return series;
}
