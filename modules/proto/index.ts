// The device's wire codecs for the subset of Viam's API it speaks (see docs/wire.md).
export * from "./auth";
export * from "./config";
export * from "./reader";
export * from "./sensor_data";
export * from "./struct";
export * from "./timestamp";
export * from "./upload";
export * from "./writer";
