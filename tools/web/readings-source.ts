/*
 * What the browse page needs from the cloud's store: a summary per stream
 * (component + method) and the latest readings of one stream. Kept this small
 * so the page does not depend on how the cloud lays out its tables.
 */

/** One stream of readings: a component's method, as the device labelled its uploads. */
export interface StreamRef {
  /** Robot part the uploads came from. */
  partId: string;
  componentType: string;
  componentName: string;
  method: string;
}

export interface StreamSummary extends StreamRef {
  /** Readings stored for this stream. */
  count: number;
  /** Capture time (ms since epoch) of the oldest and newest reading; NaN when unknown. */
  firstMs: number;
  lastMs: number;
}

export interface StoredReading {
  /** Capture time (time_requested) in ms since epoch. */
  timeMs: number;
  /** The reading's Struct as plain JSON. */
  data: unknown;
}

export interface ReadingsSource {
  streams(): StreamSummary[];
  /** Up to `limit` newest readings of `stream`, oldest first. */
  latest(stream: StreamRef, limit: number): StoredReading[];
}
