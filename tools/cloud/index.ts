// The local cloud's programmatic API (see docs/cloud.md).
export type { Fault, FaultKind, FaultSpec, MalformedVariant, RpcMethodName } from "./faults";
export { Faults } from "./faults";
export type { MachineConfigJson, ResourceJson } from "./machine-config";
export type { Cloud, CloudOptions, CloudStats, ExtraRoutes, PartCredentials } from "./server";
export { startCloud } from "./server";
export type { Reading, ReadingCount, ReadingFilter } from "./store";
export { ReadingStore } from "./store";
export type { CloudTls } from "./tls";
export { makeTestCertificates } from "./tls";
