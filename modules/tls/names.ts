/*
 * A Name (DER) as log text: its commonName and organization, enough for a
 * person reading a certificate error to tell which certificate it is.
 */
import { DerReader, oidText, TAG_OID, TAG_SEQUENCE } from "./der";

const LABELS: Record<string, string> = { "2.5.4.3": "CN", "2.5.4.10": "O" };

export function describeName(name: Uint8Array): string {
  const parts: string[] = [];
  try {
    const sequence = new DerReader(name).enter(TAG_SEQUENCE);
    while (!sequence.done) {
      const set = sequence.enter(0x31);
      while (!set.done) {
        const pair = set.enter(TAG_SEQUENCE);
        const label = LABELS[oidText(pair.value(pair.next(TAG_OID)))];
        const value = pair.value(pair.next());
        if (!label) continue;
        let text = "";
        for (let i = 0; i < value.length && i < 64; i++) {
          const c = value[i]!;
          text += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : "?";
        }
        parts.push(`${label}=${text}`);
      }
    }
  } catch {
    return '"(unreadable name)"';
  }
  return `"${parts.length > 0 ? parts.join(", ") : "(no CN)"}"`;
}
