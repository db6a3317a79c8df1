/*
 * Sync targets for the store's rings. Every ring is synced, including rings
 * whose collector left the configuration: the ring key alone names the
 * component type, name and method for UploadMetadata, so data captured under
 * an older config (or before a reboot) still reaches the cloud.
 */

import { parseRingKey } from "../capture/ring-key";
import { readingCount } from "../capture/transcoder";
import type { Logger } from "../ports";
import { DATA_TYPE_TABULAR_SENSOR, writeUploadMetadataFields } from "../proto/upload";
import type { ProtoWriter as Writer } from "../proto/writer";
import { ProtoWriter } from "../proto/writer";
import type { Ring } from "../storage/types";
import type { SyncTarget } from "../sync/target";

/** Capture's stored-block → SensorData transcoder (Capture.writeSensorData). */
export interface BlockTranscoder {
  writeSensorData(record: Uint8Array, w: Writer, field: number): number;
}

/** DataCaptureUploadRequest.sensor_contents */
const SENSOR_CONTENTS_FIELD = 2;

export function collectorTargets(
  rings: readonly Ring[],
  partId: string,
  tags: readonly string[],
  transcoder: BlockTranscoder,
  log: Logger,
): SyncTarget[] {
  const targets: SyncTarget[] = [];
  const w = new ProtoWriter(256);
  for (const ring of rings) {
    const identity = parseRingKey(ring.key);
    if (!identity) {
      log.warn(`sync: ring "${ring.key}" is not a collector key capsync writes; not synced`);
      continue;
    }
    w.reset();
    writeUploadMetadataFields(w, {
      partId,
      componentType: identity.componentType,
      componentName: identity.componentName,
      methodName: identity.method,
      type: DATA_TYPE_TABULAR_SENSOR,
      tags,
    });
    const metadata = w.finish().slice();
    targets.push({
      key: ring.key,
      ring,
      metadata: () => metadata,
      writeSensorContents: (record, writer) =>
        transcoder.writeSensorData(record, writer, SENSOR_CONTENTS_FIELD),
      countReadings: readingCount,
    });
  }
  return targets;
}
