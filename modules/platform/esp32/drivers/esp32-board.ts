/*
 * The ESP32 itself as a Viam board (model "esp32"): ADC readers for Analogs
 * and GPIO inputs for Gpios, through Moddable's ECMA-419 IO classes.
 *
 * Attributes (Viam's esp32 board shape):
 *   analogs: [{ name: "a1", pin: 34 }]   ADC1 pins (32–39); ADC2 is unusable while WiFi runs
 *   gpios:   [{ name: "door", pin: 4 }]  optional names; a pin_name that is a number is used as is
 *   pull:    "up" | "down" | "none"      input pull for GPIO pins (default "none")
 *
 * IO objects are opened when a capture method asks for a reader or pin (at
 * configure time), never on the hot path; `read()` allocates nothing.
 */
import Analog from "embedded:io/analog";
import Digital from "embedded:io/digital";
import type {
  AnalogReader,
  Component,
  GpioPin,
  ModelContext,
  ModelFactory,
} from "../../../capture/component";
import { COMPONENT_BOARD } from "../../../capture/methods";

/** ADC1 channels on the ESP32; ADC2 pins conflict with the WiFi radio. */
const ADC1_PINS = [32, 33, 34, 35, 36, 37, 38, 39];

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

class Esp32Board implements Component {
  private readonly analogs: NamedPin[];
  private readonly gpios: NamedPin[];
  private readonly mode: unknown;
  private readonly open: { close?(): void }[] = [];

  constructor(attributes: Record<string, unknown>) {
    this.analogs = namedPins(attributes, "analogs");
    for (const a of this.analogs) {
      if (!ADC1_PINS.includes(a.pin))
        throw new Error(`analog "${a.name}": pin ${a.pin} is not an ADC1 pin (32–39)`);
    }
    this.gpios = namedPins(attributes, "gpios");
    const pull = attributes.pull ?? "none";
    if (pull !== "up" && pull !== "down" && pull !== "none")
      throw new Error('attribute pull must be "up", "down" or "none"');
    this.mode = pull === "up" ? Digital.InputPullUp : pull === "down" ? Digital.InputPullDown : Digital.Input;
  }

  analogReader(readerName: string): AnalogReader | undefined {
    const entry = this.analogs.find((a) => a.name === readerName);
    if (!entry) return undefined;
    const adc = new Analog({ pin: entry.pin });
    this.open.push(adc as { close?(): void });
    return { read: () => adc.read() };
  }

  gpioPin(pinName: string): GpioPin | undefined {
    const named = this.gpios.find((g) => g.name === pinName);
    const pin = named ? named.pin : /^\d+$/.test(pinName) ? Number(pinName) : -1;
    if (pin < 0 || pin > 39) return undefined;
    const digital = new Digital({ pin, mode: this.mode as typeof Digital.Input });
    this.open.push(digital);
    return { read: () => digital.read() === 1 };
  }

  close(): void {
    for (const io of this.open) io.close?.();
    this.open.length = 0;
  }
}

export const esp32Board: ModelFactory = {
  api: COMPONENT_BOARD,
  create: ({ attributes }: ModelContext) => new Esp32Board(attributes),
};
