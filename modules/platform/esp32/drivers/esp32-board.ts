/*
 * The ESP32 itself as a Viam board (model "esp32"): ADC readers for Analogs
 * and GPIO inputs for Gpios.
 *
 * Attributes (Viam's esp32 board shape):
 *   analogs: [{ name: "a1", pin: 34 }]   ADC1 pins (32–39); ADC2 is unusable while WiFi runs
 *   gpios:   [{ name: "door", pin: 4 }]  optional names; a pin_name that is a number is used as is
 *   pull:    "up" | "down" | "none"      input pull for GPIO pins (default "none")
 *
 * IO objects are opened when a capture method asks for a reader or pin (at
 * configure time), never on the hot path; `read()` allocates nothing. The IO
 * is injected (esp32-board-model.ts opens Moddable's ECMA-419 classes), so
 * host tests run this class against fakes.
 */
import type { AnalogReader, Component, GpioPin } from "../../../capture/component";

/** ADC1 channels on the ESP32; ADC2 pins conflict with the WiFi radio. */
export const ADC1_PINS: readonly number[] = [32, 33, 34, 35, 36, 37, 38, 39];
export const MAX_GPIO = 39;

export type Pull = "up" | "down" | "none";

/** Opens ECMA-419 IO objects (embedded:io/analog, embedded:io/digital). */
export interface BoardIo {
  analog(pin: number): { read(): number; close?(): void };
  digitalInput(pin: number, pull: Pull): { read(): number; close?(): void };
}

interface NamedPin {
  name: string;
  pin: number;
}

function namedPins(attributes: Record<string, unknown>, key: string): NamedPin[] {
  const value = attributes[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`attribute ${key} must be an array of {name, pin}`);
  return value.map((entry, i) => {
    const e = entry as { name?: unknown; pin?: unknown };
    if (typeof e?.name !== "string" || typeof e.pin !== "number" || !Number.isInteger(e.pin) || e.pin < 0) {
      throw new Error(`${key}[${i}] must be {name: string, pin: integer}`);
    }
    return { name: e.name, pin: e.pin };
  });
}

export class Esp32Board implements Component {
  private readonly analogs: NamedPin[];
  private readonly gpios: NamedPin[];
  private readonly pull: Pull;
  private readonly open: { close?(): void }[] = [];

  constructor(
    private readonly io: BoardIo,
    attributes: Record<string, unknown>,
  ) {
    this.analogs = namedPins(attributes, "analogs");
    for (const a of this.analogs) {
      if (!ADC1_PINS.includes(a.pin)) {
        throw new Error(`analog "${a.name}": pin ${a.pin} is not an ADC1 pin (32–39)`);
      }
    }
    this.gpios = namedPins(attributes, "gpios");
    for (const g of this.gpios) {
      if (g.pin > MAX_GPIO) throw new Error(`gpio "${g.name}": pin ${g.pin} does not exist (0–${MAX_GPIO})`);
    }
    const pull = attributes.pull ?? "none";
    if (pull !== "up" && pull !== "down" && pull !== "none") {
      throw new Error('attribute pull must be "up", "down" or "none"');
    }
    this.pull = pull;
  }

  analogReader(readerName: string): AnalogReader | undefined {
    const entry = this.analogs.find((a) => a.name === readerName);
    if (!entry) return undefined;
    const adc = this.io.analog(entry.pin);
    this.open.push(adc);
    return { read: () => adc.read() };
  }

  gpioPin(pinName: string): GpioPin | undefined {
    const named = this.gpios.find((g) => g.name === pinName);
    const pin = named ? named.pin : /^\d+$/.test(pinName) ? Number(pinName) : -1;
    if (pin < 0 || pin > MAX_GPIO) return undefined;
    const digital = this.io.digitalInput(pin, this.pull);
    this.open.push(digital);
    return { read: () => digital.read() === 1 };
  }

  close(): void {
    for (const io of this.open) io.close?.();
    this.open.length = 0;
  }
}
