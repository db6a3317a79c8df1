/* Number and duration formatting shared by the terminal view and the status line. */

export function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const hh = String(Math.floor(s / 3600)).padStart(2, "0");
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return `${hh}:${mm}:${ss}`;
}

export function hz(value: number): string {
  return value >= 10 || Number.isInteger(value) ? String(Math.round(value * 10) / 10) : value.toFixed(2);
}

export function lifetime(days: number): string {
  if (Number.isNaN(days)) return "measuring…";
  if (!Number.isFinite(days)) return "no erases yet";
  if (days < 2) return `${(days * 24).toFixed(1)} hours`;
  if (days < 730) return `${Math.round(days)} days`;
  return `${(days / 365).toFixed(days < 3650 ? 1 : 0)} years`;
}
