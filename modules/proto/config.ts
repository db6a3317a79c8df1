/*
 * viam.app.v1.RobotService/Config messages, reduced to what capsync reads.
 *
 *   ConfigRequest   { string id = 1; }                       (the part id)
 *   ConfigResponse  { RobotConfig config = 1; }
 *   RobotConfig     { CloudConfig cloud = 1; repeated ComponentConfig components = 3;
 *                     repeated ServiceConfig services = 5; string revision = 15; }
 *   CloudConfig     { string id = 1; … }
 *   ComponentConfig { name = 1; namespace = 2; type = 3; model = 4; depends_on = 6;
 *                     repeated ResourceLevelServiceConfig service_configs = 7; Struct attributes = 8; api = 9; }
 *   ServiceConfig   { name = 1; namespace = 2; type = 3; Struct attributes = 4; depends_on = 5;
 *                     model = 6; api = 9; repeated ResourceLevelServiceConfig service_configs = 10; }
 *   ResourceLevelServiceConfig { string type = 1; Struct attributes = 2; }
 *
 * The decoded result has the shape of Viam's JSON machine config (snake_case
 * `service_configs`, `api`, `model`, `attributes`), so the config module reads
 * a cloud response and a JSON file the same way. Every other RobotConfig field
 * (remotes, modules, network, auth, …) is skipped unread.
 */

import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_VALUES, ProtoReader } from "./reader";
import { type JsonObject, readStruct } from "./struct";
import { type ProtoWriter, WIRE_LEN } from "./writer";

export interface ResourceServiceConfig {
  type: string;
  attributes: JsonObject;
}

export interface ResourceConfig {
  name: string;
  /** "namespace:kind:type", e.g. "rdk:component:sensor"; derived from namespace/type when the cloud sent only those. */
  api: string;
  /** The resource type, e.g. "sensor"; derived from `api` when the cloud sent only that. */
  type: string;
  namespace: string;
  model: string;
  attributes: JsonObject;
  depends_on: string[];
  service_configs: ResourceServiceConfig[];
}

export interface MachineConfig {
  /** The part id from RobotConfig.cloud.id ("" when absent). */
  part_id: string;
  revision: string;
  components: ResourceConfig[];
  services: ResourceConfig[];
}

export function encodeConfigRequest(w: ProtoWriter, partId: string, headerRoom = 0): Uint8Array {
  const start = w.pos;
  for (let i = 0; i < headerRoom; i++) w.raw(ZERO);
  if (partId.length > 0) w.string(1, partId);
  return w.finish().subarray(start);
}

/**
 * Decode a ConfigResponse. Throws ProtoDecodeError on malformed input; nesting
 * is bounded by `maxDepth`, the number of decoded values (resources, Struct
 * values, strings in lists) by `maxValues`.
 */
export function decodeConfigResponse(
  bytes: Uint8Array,
  maxDepth = DEFAULT_MAX_DEPTH,
  maxValues = DEFAULT_MAX_VALUES,
): MachineConfig {
  const r = new ProtoReader(bytes, maxDepth, maxValues);
  const out: MachineConfig = { part_id: "", revision: "", components: [], services: [] };
  while (r.more()) {
    if (r.tag() !== 1) {
      r.skip();
      continue;
    }
    r.expect(WIRE_LEN);
    const outer = r.enter();
    readRobotConfig(r, out);
    r.leave(outer);
  }
  return out;
}

function readRobotConfig(r: ProtoReader, out: MachineConfig): void {
  while (r.more()) {
    switch (r.tag()) {
      case 1: {
        r.expect(WIRE_LEN);
        const outer = r.enter();
        while (r.more()) {
          if (r.tag() === 1) {
            r.expect(WIRE_LEN);
            out.part_id = r.string();
          } else r.skip();
        }
        r.leave(outer);
        break;
      }
      case 3:
        out.components.push(readResource(r, "component", COMPONENT_FIELDS));
        break;
      case 5:
        out.services.push(readResource(r, "service", SERVICE_FIELDS));
        break;
      case 15:
        r.expect(WIRE_LEN);
        out.revision = r.string();
        break;
      default:
        r.skip();
    }
  }
}

/** Field numbers that differ between ComponentConfig and ServiceConfig. */
interface ResourceFields {
  attributes: number;
  dependsOn: number;
  model: number;
  serviceConfigs: number;
}
const COMPONENT_FIELDS: ResourceFields = { attributes: 8, dependsOn: 6, model: 4, serviceConfigs: 7 };
const SERVICE_FIELDS: ResourceFields = { attributes: 4, dependsOn: 5, model: 6, serviceConfigs: 10 };

function readResource(r: ProtoReader, kind: string, fields: ResourceFields): ResourceConfig {
  r.expect(WIRE_LEN);
  r.spend();
  const outer = r.enter();
  const res: ResourceConfig = {
    name: "",
    api: "",
    type: "",
    namespace: "",
    model: "",
    attributes: {},
    depends_on: [],
    service_configs: [],
  };
  while (r.more()) {
    const f = r.tag();
    if (f === 1) {
      r.expect(WIRE_LEN);
      res.name = r.string();
    } else if (f === 2) {
      r.expect(WIRE_LEN);
      res.namespace = r.string();
    } else if (f === 3) {
      r.expect(WIRE_LEN);
      res.type = r.string();
    } else if (f === 9) {
      r.expect(WIRE_LEN);
      res.api = r.string();
    } else if (f === fields.model) {
      r.expect(WIRE_LEN);
      res.model = r.string();
    } else if (f === fields.attributes) {
      res.attributes = readStruct(r);
    } else if (f === fields.dependsOn) {
      r.expect(WIRE_LEN);
      r.spend();
      res.depends_on.push(r.string());
    } else if (f === fields.serviceConfigs) {
      r.expect(WIRE_LEN);
      r.spend();
      const inner = r.enter();
      const sc: ResourceServiceConfig = { type: "", attributes: {} };
      while (r.more()) {
        const g = r.tag();
        if (g === 1) {
          r.expect(WIRE_LEN);
          sc.type = r.string();
        } else if (g === 2) sc.attributes = readStruct(r);
        else r.skip();
      }
      r.leave(inner);
      res.service_configs.push(sc);
    } else r.skip();
  }
  r.leave(outer);
  if (res.api === "" && res.type !== "") res.api = `${res.namespace || "rdk"}:${kind}:${res.type}`;
  else if (res.api !== "") {
    const parts = res.api.split(":");
    if (res.type === "" && parts.length === 3) res.type = parts[2]!;
    if (res.namespace === "" && parts.length === 3) res.namespace = parts[0]!;
  }
  return res;
}

const ZERO = new Uint8Array(1);
