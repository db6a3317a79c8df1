// Viam machine config → validated capture and sync settings.

export * from "./limits";
export { DATA_MANAGER_API, parseMachineConfig } from "./machine-config";
export * from "./settings";
