/*
 * Viam-shaped machine config JSON (what app.viam.com shows under "JSON" for a
 * part) → the RobotConfig message RobotService.Config returns.
 */

import { create, type JsonObject } from "@bufbuild/protobuf";
import {
  type ComponentConfig,
  ComponentConfigSchema,
  type RobotConfig,
  RobotConfigSchema,
  type ServiceConfig,
  ServiceConfigSchema,
} from "../../protos/gen/viam/app/v1/robot_pb";

export interface ResourceLevelServiceConfigJson {
  type: string;
  attributes?: JsonObject;
}

export interface ResourceJson {
  name: string;
  /** "rdk:component:sensor"; or give `type` (+ `namespace`) the older way. */
  api?: string;
  type?: string;
  namespace?: string;
  model?: string;
  attributes?: JsonObject;
  depends_on?: string[];
  service_configs?: ResourceLevelServiceConfigJson[];
}

export interface MachineConfigJson {
  components?: ResourceJson[];
  services?: ResourceJson[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown, where: string): string {
  if (v === undefined) return "";
  if (typeof v !== "string") throw new TypeError(`${where} must be a string`);
  return v;
}

function obj(v: unknown, where: string): JsonObject {
  if (v === undefined) return {};
  if (!isObject(v)) throw new TypeError(`${where} must be an object`);
  return v as JsonObject;
}

function serviceConfigs(v: unknown, where: string) {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new TypeError(`${where} must be an array`);
  return v.map((sc, i) => {
    if (!isObject(sc)) throw new TypeError(`${where}[${i}] must be an object`);
    return {
      type: str(sc.type, `${where}[${i}].type`),
      attributes: obj(sc.attributes, `${where}[${i}].attributes`),
    };
  });
}

function common(r: unknown, where: string) {
  if (!isObject(r)) throw new TypeError(`${where} must be an object`);
  const dependsOn = r.depends_on === undefined ? [] : r.depends_on;
  if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== "string")) {
    throw new TypeError(`${where}.depends_on must be an array of strings`);
  }
  return {
    name: str(r.name, `${where}.name`),
    api: str(r.api, `${where}.api`),
    type: str(r.type, `${where}.type`),
    namespace: str(r.namespace, `${where}.namespace`),
    model: str(r.model, `${where}.model`),
    attributes: obj(r.attributes, `${where}.attributes`),
    dependsOn: dependsOn as string[],
    // Viam's Go structs tag this field `service_config`; its documented JSON says `service_configs`.
    serviceConfigs: serviceConfigs(r.service_configs ?? r.service_config, `${where}.service_configs`),
  };
}

/** Validate a machine config JSON value (throws TypeError naming the bad field) and build the RobotConfig. */
export function robotConfigFromJson(json: unknown, partId: string, revision: string): RobotConfig {
  if (!isObject(json)) throw new TypeError("machine config must be a JSON object");
  const components = json.components ?? [];
  const services = json.services ?? [];
  if (!Array.isArray(components)) throw new TypeError("components must be an array");
  if (!Array.isArray(services)) throw new TypeError("services must be an array");
  return create(RobotConfigSchema, {
    cloud: { id: partId },
    components: components.map(
      (c, i): ComponentConfig => create(ComponentConfigSchema, common(c, `components[${i}]`)),
    ),
    services: services.map((s, i): ServiceConfig => create(ServiceConfigSchema, common(s, `services[${i}]`))),
    revision,
  });
}
