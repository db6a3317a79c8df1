/*
 * The keys a person can press while the demo runs. One table drives both the
 * key handler and the help line on screen, so they cannot disagree.
 */

export type ControlAction =
  | { kind: "toggle-network" }
  | { kind: "reboot" }
  | { kind: "sync-now" }
  | { kind: "select"; index: number }
  | { kind: "scale-frequency"; factor: number }
  | { kind: "quit" };

export interface ControlKey {
  keys: string[];
  label: string;
  action: ControlAction;
}

export const controlKeys: ControlKey[] = [
  { keys: ["n"], label: "cut/restore network", action: { kind: "toggle-network" } },
  { keys: ["r"], label: "reboot (power cut)", action: { kind: "reboot" } },
  { keys: ["s"], label: "sync now", action: { kind: "sync-now" } },
  { keys: ["+", "="], label: "double Hz of selected", action: { kind: "scale-frequency", factor: 2 } },
  { keys: ["-", "_"], label: "halve Hz", action: { kind: "scale-frequency", factor: 0.5 } },
  { keys: ["q", "\u0003"], label: "quit", action: { kind: "quit" } },
];

/** Maps one keypress (as raw-mode stdin delivers it) to an action, or undefined for keys with no meaning. */
export function actionForKey(key: string): ControlAction | undefined {
  if (/^[1-9]$/.test(key)) return { kind: "select", index: Number(key) - 1 };
  // Arrow keys move the selection too.
  if (key === "\u001b[A") return { kind: "select", index: -1 };
  if (key === "\u001b[B") return { kind: "select", index: -2 };
  const lower = key.length === 1 ? key.toLowerCase() : key;
  return controlKeys.find((c) => c.keys.includes(lower))?.action;
}

/** Splits one raw-mode stdin chunk into keys (a fast typist or a paste delivers several at once). */
export function splitKeys(chunk: string): string[] {
  const keys: string[] = [];
  for (let i = 0; i < chunk.length; i++) {
    if (chunk[i] === "\u001b" && chunk[i + 1] === "[" && i + 2 < chunk.length) {
      keys.push(chunk.slice(i, i + 3));
      i += 2;
    } else keys.push(chunk[i]!);
  }
  return keys;
}

/** The controls as two short lines for the screen. */
export function helpLines(): string[] {
  const shown = controlKeys.map((c) => `[${c.keys[0] === "\u0003" ? "^C" : c.keys[0]}] ${c.label}`);
  return [
    ["[1-9/↑↓] select collector", ...shown.slice(3, 5)].join("   "),
    [...shown.slice(0, 3), shown[5]].join("   "),
  ];
}
