/*
 * The "esp32" board model: Moddable's ECMA-419 `embedded:io/analog` and
 * `embedded:io/digital` behind the board driver (esp32-board.ts).
 */
import Analog from "embedded:io/analog";
import Digital from "embedded:io/digital";
import type { ModelContext, ModelFactory } from "../../../capture/component";
import { COMPONENT_BOARD } from "../../../capture/methods";
import { type BoardIo, Esp32Board } from "./esp32-board";

const io: BoardIo = {
  // ECMA-419 Analog has close(); Moddable's typings leave it out.
  analog: (pin) => new Analog({ pin }) as Analog & { close?(): void },
  digitalInput: (pin, pull) =>
    new Digital({
      pin,
      mode: pull === "up" ? Digital.InputPullUp : pull === "down" ? Digital.InputPullDown : Digital.Input,
    }),
};

export const esp32Board: ModelFactory = {
  api: COMPONENT_BOARD,
  create: ({ attributes }: ModelContext) => new Esp32Board(io, attributes),
};
