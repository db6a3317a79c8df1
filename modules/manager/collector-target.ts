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

/** What capture offers sync (Capture implements it). */
export interface BlockTranscoder {
  /** Stored block → SensorData fields (Capture.writeSensorData). */
  writeSensorData(record: Uint8Array, w: Writer, field: number): number;
  /** The collector's additional_params (reader_name, pin_name, …), sent as UploadMetadata.method_parameters. */
  metadata?(key: string): { additionalParams: Record<string, string> } | undefined;
}

/** UploadMetadata.method_parameters: map<string, google.protobuf.Any> = 8. */
const METHOD_PARAMETERS_FIELD = 8;
/** UploadMetadata.tags: repeated string = 10. */
const TAGS_FIELD = 10;
/** Viam's clients pack each string parameter as a google.protobuf.StringValue in an Any. */
const STRING_VALUE_TYPE_URL = "type.googleapis.com/google.protobuf.StringValue";

/**
 * UploadMetadata fields in field-number order (as protobuf-es writes them):
 * 1–6 from the proto module, then method_parameters (8), then tags (10).
 */
export function writeCollectorMetadata(
  w: Writer,
  fields: { partId: string; componentType: string; componentName: string; methodName: string },
  parameters: Record<string, string>,
  tags: readonly string[],
): void {
  writeUploadMetadataFields(w, { ...fields, type: DATA_TYPE_TABULAR_SENSOR });
  for (const key of Object.keys(parameters).sort()) {
    const entry = w.begin(METHOD_PARAMETERS_FIELD);
    w.string(1, key);
    const any = w.begin(2);
    w.string(1, STRING_VALUE_TYPE_URL);
    const value = w.begin(2);
    const text = parameters[key]!;
    if (text.length > 0) w.string(1, text);
    w.end(value);
    w.end(any);
    w.end(entry);
  }
  for (const tag of tags) w.string(TAGS_FIELD, tag);
}

/** The parameter a ring key's fourth part stands for, per method. */
const PARAMETER_NAMES: Readonly<Record<string, string>> = { Analogs: "reader_name", Gpios: "pin_name" };

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
    const parameters =
      transcoder.metadata?.(ring.key)?.additionalParams ??
      (identity.parameter === ""
        ? {}
        : { [PARAMETER_NAMES[identity.method] ?? "parameter"]: identity.parameter });
    writeCollectorMetadata(
      w,
      {
        partId,
        componentType: identity.componentType,
        componentName: identity.componentName,
        methodName: identity.method,
      },
      parameters,
      tags,
    );
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
