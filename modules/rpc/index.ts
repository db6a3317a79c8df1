// gRPC-web client and the cloud API on top of it (see docs/wire.md).
export * from "./client";
export * from "./cloud-client";
export * from "./grpc-web";
export * from "./status";
