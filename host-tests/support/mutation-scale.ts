// `npm run mutation` (stryker/area.mjs sets CAPSYNC_MUTATION=1) reruns the tests covering a mutant
// once per mutant, instrumented; the seeded soaks in the storage tests then run a fraction of their
// cases (the same kinds of case, fewer seeds or cut points). Everywhere else they run in full.
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env;

/** True inside a mutation run. */
export const MUTATION_RUN = env?.CAPSYNC_MUTATION === "1";

/** `full` normally, `underMutation` inside a mutation run. */
export function scaled(full: number, underMutation: number): number {
  return MUTATION_RUN ? underMutation : full;
}
