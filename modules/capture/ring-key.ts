/*
 * A collector's identity, which is also its ring's key in the store:
 *   "<component api>/<component name>/<Method>[/<parameter value>]"
 * e.g. "rdk:component:board/local/Analogs/a1". The key alone says what to put
 * in UploadMetadata, so rings left over from an earlier configuration (or an
 * earlier boot) can still be uploaded after their collector is gone.
 */

export interface CollectorIdentity {
  /** Viam component type for UploadMetadata.component_type, e.g. "rdk:component:sensor". */
  componentType: string;
  componentName: string;
  /** UploadMetadata.method_name, e.g. "Readings". */
  method: string;
  /** The method's parameter value (reader_name / pin_name), "" when none. */
  parameter: string;
}

export function ringKey(
  componentType: string,
  componentName: string,
  method: string,
  parameter = "",
): string {
  const base = `${componentType}/${componentName}/${method}`;
  return parameter === "" ? base : `${base}/${parameter}`;
}

/** Parse a ring key; undefined when it is not one capsync writes. */
export function parseRingKey(key: string): CollectorIdentity | undefined {
  const parts = key.split("/");
  if (parts.length < 3 || parts.length > 4) return undefined;
  const [componentType, componentName, method, parameter] = parts as [string, string, string, string?];
  if (!componentType.includes(":") || componentName === "" || method === "") return undefined;
  return { componentType, componentName, method, parameter: parameter ?? "" };
}
