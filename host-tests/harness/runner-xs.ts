// XS lane: scripts/xs-lane.mjs bundles each core test file with this module in
// place of runner.ts and runs the bundle inside an XS worker (@agoric/xsnap).
// XS has no timers there, so tests must be driven by fake clocks; promises work.
export type TestFn = () => void | Promise<void>;

declare const issueCommand: (message: ArrayBuffer) => ArrayBuffer;

const registered: { name: string; fn: TestFn }[] = [];

export function test(name: string, fn: TestFn): void {
  registered.push({ name, fn });
}

function send(message: object): void {
  issueCommand(new TextEncoder().encode(JSON.stringify(message)).buffer as ArrayBuffer);
}

(globalThis as Record<string, unknown>).__capsyncRunTests = async () => {
  for (const { name, fn } of registered) {
    const started = (globalThis as unknown as { performance: { now(): number } }).performance.now();
    try {
      await fn();
      send({ kind: "result", name, ok: true, ms: performance.now() - started });
    } catch (error) {
      const e = error as Error;
      send({ kind: "result", name, ok: false, error: `${e?.message ?? e}\n${e?.stack ?? ""}` });
    }
  }
  send({ kind: "done" });
};
