// Capture: components, collectors, the sampler, RAM batches and the block → SensorData transcoder.
export * from "./block-format";
export { BlockWriter } from "./block-writer";
export { BOOTS_KEY, BootTimeline } from "./boot-timeline";
export { Capture, type CapturePorts, type CollectorMetadata, type SamplerStats } from "./capture";
export type { CollectorStats } from "./collector";
export type * from "./component";
export * from "./methods";
export { ModelRegistry } from "./registry";
export { type CollectorIdentity, parseRingKey, ringKey } from "./ring-key";
export { simulatedModels } from "./simulated";
export {
  BlockFormatError,
  blockKind,
  readingCount,
  SensorDataTranscoder,
  TIMES_NOT_KNOWN_YET,
} from "./transcoder";
