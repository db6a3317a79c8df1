// Platform-free assertions (node:assert is not available inside XS).

export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v) =>
      typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? `<bytes ${Array.from(v).join(",")}>` : v,
    );
  } catch {
    return String(value);
  }
}

export function ok(value: unknown, message?: string): asserts value {
  if (!value) throw new AssertionError(message ?? `expected truthy, got ${show(value)}`);
}

export function equal<T>(actual: T, expected: T, message?: string): void {
  if (!Object.is(actual, expected)) {
    throw new AssertionError(
      `${message ? `${message}: ` : ""}expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

export function notEqual<T>(actual: T, expected: T, message?: string): void {
  if (Object.is(actual, expected)) {
    throw new AssertionError(`${message ? `${message}: ` : ""}expected a value other than ${show(expected)}`);
  }
}

function deepEq(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    if (x.length !== y.length || a.constructor !== b.constructor) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !deepEq(v, b.get(k))) return false;
    return true;
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b as object, k)) return false;
    if (!deepEq((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

export function deepEqual(actual: unknown, expected: unknown, message?: string): void {
  if (!deepEq(actual, expected)) {
    throw new AssertionError(
      `${message ? `${message}: ` : ""}expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

function matches(error: unknown, expected?: RegExp | string): boolean {
  if (expected === undefined) return true;
  const text = (error as Error)?.message ?? String(error);
  return typeof expected === "string" ? text.includes(expected) : expected.test(text);
}

export function throws(fn: () => unknown, expected?: RegExp | string, message?: string): void {
  try {
    fn();
  } catch (error) {
    if (!matches(error, expected)) {
      throw new AssertionError(`${message ? `${message}: ` : ""}wrong error: ${(error as Error)?.message}`);
    }
    return;
  }
  throw new AssertionError(message ?? "expected a throw");
}

export async function rejects(fn: () => Promise<unknown>, expected?: RegExp | string, message?: string) {
  try {
    await fn();
  } catch (error) {
    if (!matches(error, expected)) {
      throw new AssertionError(`${message ? `${message}: ` : ""}wrong error: ${(error as Error)?.message}`);
    }
    return;
  }
  throw new AssertionError(message ?? "expected a rejection");
}
