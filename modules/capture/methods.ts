/*
 * The capture methods capsync knows, with Viam's names and payload shapes.
 *
 * A method kind is stored in every on-flash block (see FORMAT.md), so a block
 * can be transcoded to SensorData without any configuration: never renumber.
 */

export const COMPONENT_SENSOR = "rdk:component:sensor";
export const COMPONENT_MOVEMENT_SENSOR = "rdk:component:movement_sensor";
export const COMPONENT_BOARD = "rdk:component:board";
export const COMPONENT_ENCODER = "rdk:component:encoder";
export const COMPONENT_MOTOR = "rdk:component:motor";
export const COMPONENT_SERVO = "rdk:component:servo";

export const COMPONENT_APIS: readonly string[] = [
  COMPONENT_SENSOR,
  COMPONENT_MOVEMENT_SENSOR,
  COMPONENT_BOARD,
  COMPONENT_ENCODER,
  COMPONENT_MOTOR,
  COMPONENT_SERVO,
];

/** Method kinds (on-flash codes). */
export const KIND_READINGS = 1;
export const KIND_ANGULAR_VELOCITY = 2;
export const KIND_LINEAR_ACCELERATION = 3;
export const KIND_LINEAR_VELOCITY = 4;
export const KIND_GEO_POSITION = 5;
export const KIND_COMPASS_HEADING = 6;
export const KIND_ANALOG = 7;
export const KIND_GPIO = 8;
export const KIND_TICKS = 9;
export const KIND_MOTOR_POSITION = 10;
export const KIND_SERVO_POSITION = 11;
export const KIND_MAX = 11;

export interface MethodSpec {
  /** Viam's method name (UpperCamelCase), as in config and UploadMetadata.method_name. */
  readonly method: string;
  readonly kind: number;
  /** Number of values per reading for fixed-shape kinds (0 for Readings: its shape is per reading). */
  readonly arity: number;
  /** The additional_params key this method needs, if any. */
  readonly requiredParam?: string;
}

const vector = (method: string, kind: number): MethodSpec => ({ method, kind, arity: 3 });

/** Methods per component API. */
export const METHODS_BY_API: Readonly<Record<string, readonly MethodSpec[]>> = {
  [COMPONENT_SENSOR]: [{ method: "Readings", kind: KIND_READINGS, arity: 0 }],
  [COMPONENT_MOVEMENT_SENSOR]: [
    { method: "Readings", kind: KIND_READINGS, arity: 0 },
    vector("AngularVelocity", KIND_ANGULAR_VELOCITY),
    vector("LinearAcceleration", KIND_LINEAR_ACCELERATION),
    vector("LinearVelocity", KIND_LINEAR_VELOCITY),
    { method: "Position", kind: KIND_GEO_POSITION, arity: 3 },
    { method: "CompassHeading", kind: KIND_COMPASS_HEADING, arity: 1 },
  ],
  [COMPONENT_BOARD]: [
    { method: "Analogs", kind: KIND_ANALOG, arity: 1, requiredParam: "reader_name" },
    { method: "Gpios", kind: KIND_GPIO, arity: 1, requiredParam: "pin_name" },
  ],
  [COMPONENT_ENCODER]: [{ method: "TicksCount", kind: KIND_TICKS, arity: 1 }],
  [COMPONENT_MOTOR]: [{ method: "Position", kind: KIND_MOTOR_POSITION, arity: 1 }],
  [COMPONENT_SERVO]: [{ method: "Position", kind: KIND_SERVO_POSITION, arity: 1 }],
};

/** Every method name any API has (to tell "unknown method" from "not a method of this component"). */
export const ALL_METHOD_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const api of COMPONENT_APIS) {
    for (const spec of METHODS_BY_API[api]!) if (!names.includes(spec.method)) names.push(spec.method);
  }
  return names;
})();

export function methodSpec(api: string, method: string): MethodSpec | undefined {
  const list = METHODS_BY_API[api];
  if (!list) return undefined;
  for (const spec of list) if (spec.method === method) return spec;
  return undefined;
}

/** Arity of a fixed-shape kind (0 for Readings or an unknown kind). */
export function kindArity(kind: number): number {
  if (kind === KIND_ANGULAR_VELOCITY || kind === KIND_LINEAR_ACCELERATION || kind === KIND_LINEAR_VELOCITY)
    return 3;
  if (kind === KIND_GEO_POSITION) return 3;
  if (kind > KIND_GEO_POSITION && kind <= KIND_MAX) return 1;
  return 0;
}
