// fast-check reads `setTimeout` and `clearTimeout` when its module loads (for async properties with a
// time limit, which the core tests never use). The XS lane's engine has no timers: give it stand-ins
// that refuse to run, so synchronous properties work there unchanged. Node keeps its own.
const g = globalThis as unknown as Record<string, unknown>;
if (typeof g.setTimeout !== "function") {
  g.setTimeout = () => {
    throw new Error("no timers in the XS lane: use a synchronous property");
  };
  g.clearTimeout = () => {};
}

export {};
