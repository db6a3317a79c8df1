// fast-check reads setTimeout/clearTimeout when it loads (for its async runners, which these tests do not
// use). The XS lane's engine has no timers: give it stand-ins that fail loudly if anything calls them.
// Import this before fast-check.
const g = globalThis as Record<string, unknown>;
if (typeof g.setTimeout !== "function") {
  g.setTimeout = () => {
    throw new Error("no timers in the XS lane");
  };
  g.clearTimeout = () => {};
}
