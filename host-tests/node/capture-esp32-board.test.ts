// The ESP32 board driver against fake ECMA-419 IO, captured through a real Capture.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Capture } from "../../modules/capture/capture";
import type { ModelFactory } from "../../modules/capture/component";
import { COMPONENT_BOARD } from "../../modules/capture/methods";
import { ModelRegistry } from "../../modules/capture/registry";
import { parseMachineConfig } from "../../modules/config/machine-config";
import { type BoardIo, Esp32Board, type Pull } from "../../modules/platform/esp32/drivers/esp32-board";
import { MemoryStore } from "../support/memory-store";
import { CaptureRig, LogLines, machineConfig } from "../support/sensors-rig";

class FakeIo implements BoardIo {
  opened: string[] = [];
  closed = 0;
  adcValue = 0;
  level = 0;
  analog(pin: number) {
    this.opened.push(`adc${pin}`);
    return { read: () => this.adcValue++, close: () => void this.closed++ };
  }
  digitalInput(pin: number, pull: Pull) {
    this.opened.push(`gpio${pin}:${pull}`);
    return { read: () => (this.level ^= 1), close: () => void this.closed++ };
  }
}

test("esp32 board: attribute validation", () => {
  const io = new FakeIo();
  assert.throws(() => new Esp32Board(io, { analogs: [{ name: "a", pin: 4 }] }), /not an ADC1 pin/);
  assert.throws(() => new Esp32Board(io, { analogs: "a" }), /array/);
  assert.throws(() => new Esp32Board(io, { gpios: [{ name: "g", pin: 40 }] }), /does not exist/);
  assert.throws(() => new Esp32Board(io, { pull: "sideways" }), /pull/);
  assert.deepEqual(io.opened, [], "nothing opened for a refused config");
});

test("esp32 board: Analogs and Gpios through Capture; names, numeric pins, pull; unknown readers reported; close", () => {
  const io = new FakeIo();
  const factory: ModelFactory = {
    api: COMPONENT_BOARD,
    create: ({ attributes }) => new Esp32Board(io, attributes),
  };
  const clock = CaptureRig.validClock();
  const log = new LogLines();
  const capture = new Capture({
    store: new MemoryStore(),
    clock,
    timers: clock,
    log,
    registry: new ModelRegistry().register("esp32", factory),
  });
  const issues = capture.apply(
    parseMachineConfig(
      machineConfig([
        {
          name: "board",
          api: COMPONENT_BOARD,
          model: "esp32",
          attributes: { analogs: [{ name: "soil", pin: 34 }], gpios: [{ name: "door", pin: 4 }], pull: "up" },
          methods: [
            { method: "Analogs", capture_frequency_hz: 10, additional_params: { reader_name: "soil" } },
            { method: "Analogs", capture_frequency_hz: 10, additional_params: { reader_name: "light" } },
            { method: "Gpios", capture_frequency_hz: 10, additional_params: { pin_name: "door" } },
            { method: "Gpios", capture_frequency_hz: 10, additional_params: { pin_name: "13" } },
          ],
        },
      ]),
    ),
  );
  assert.deepEqual(
    issues.map((i) => `${i.method}: ${i.message}`),
    ['Analogs: board has no analog reader "light"'],
  );
  assert.deepEqual(io.opened.sort(), ["adc34", "gpio13:up", "gpio4:up"]);
  clock.advance(1000);
  for (const s of capture.stats()) assert.equal(s.captured, 11, s.key);
  capture.close();
  assert.equal(io.closed, 3);
});
