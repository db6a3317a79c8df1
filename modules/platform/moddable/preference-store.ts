/*
 * KeyValueStore over Moddable's `Preference`: NVS on ESP32, a JSON file
 * under the simulator's file root on Linux. One domain holds all of capsync's
 * keys. NVS refuses keys over 15 characters and strings over 4000 bytes; the
 * checks here fail the same way on the simulator so a mistake shows on the
 * desktop before it reaches a board.
 */
import Preference from "preference";
import type { KeyValueStore } from "../../ports";

const MAX_KEY = 15;
const MAX_VALUE_BYTES = 4000;

export class PreferenceStore implements KeyValueStore {
  private readonly domain: string;

  constructor(domain = "capsync") {
    this.domain = domain;
  }

  get(key: string): string | undefined {
    checkKey(key);
    const value = Preference.get(this.domain, key);
    return typeof value === "string" ? value : undefined;
  }

  set(key: string, value: string): void {
    checkKey(key);
    if (value.length * 3 > MAX_VALUE_BYTES && utf8Bytes(value) > MAX_VALUE_BYTES) {
      throw new RangeError(`value for "${key}" exceeds ${MAX_VALUE_BYTES} bytes (an NVS limit)`);
    }
    Preference.set(this.domain, key, value);
  }

  delete(key: string): void {
    checkKey(key);
    Preference.delete(this.domain, key);
  }
}

function checkKey(key: string): void {
  if (key.length === 0 || key.length > MAX_KEY)
    throw new RangeError(`key "${key}" must be 1–${MAX_KEY} characters (an NVS limit)`);
}

function utf8Bytes(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  }
  return n;
}
