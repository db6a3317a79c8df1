/*
 * Logger over Moddable's `trace`: on a board it reaches xsbug or the serial
 * console (`mcconfig -d` / `-dl`), in the simulator xsbug or xsbug-log. Each
 * line carries seconds since boot so a log read later still shows timing.
 */
import Time from "time";
import type { Logger } from "../../ports";

export function traceLogger(prefix = "capsync"): Logger {
  const start = Time.ticks;
  const line = (level: string, message: string): void => {
    const seconds = (Time.delta(start) / 1000).toFixed(3);
    trace(`${prefix} ${seconds} ${level} ${message}\n`);
  };
  return {
    info: (message) => line("info", message),
    warn: (message) => line("warn", message),
    error: (message) => line("error", message),
  };
}
