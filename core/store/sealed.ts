/**
 * A sealed JSON document: what it is (identity), a checksum of its payload, and the
 * payload. Unsealing checks all three, so a truncated, edited or misplaced file is told
 * apart from a valid one and never used. The run directory's cells and the sweep store's
 * objects and manifests are all sealed this way.
 */
import { textChecksum } from '../hash.ts';

export interface Sealed<T> {
  identity: Record<string, string>;
  checksum: string;
  payload: T;
}

/** Stable JSON: keys sorted, so equal values give equal text. */
export function canonicalJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_k, v) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
    indent,
  );
}

export function seal<T>(identity: Record<string, string>, payload: T): string {
  const sealed: Sealed<T> = { identity, checksum: textChecksum(JSON.stringify(payload)), payload };
  return JSON.stringify(sealed, null, 1);
}

/** The payload, or why the text is not a valid seal of `identity` (a short phrase for a message). */
export function unseal<T>(text: string, identity: Record<string, string>): { payload: T } | { problem: string } {
  let sealed: Sealed<T>;
  try {
    sealed = JSON.parse(text) as Sealed<T>;
  } catch {
    return { problem: 'not JSON' };
  }
  if (!sealed || typeof sealed !== 'object' || sealed.payload === undefined || typeof sealed.checksum !== 'string') {
    return { problem: 'no sealed payload' };
  }
  if (textChecksum(JSON.stringify(sealed.payload)) !== sealed.checksum) return { problem: 'checksum mismatch' };
  if (canonicalJson(sealed.identity) !== canonicalJson(identity)) {
    return { problem: `it belongs elsewhere (identity ${JSON.stringify(sealed.identity)})` };
  }
  return { payload: sealed.payload };
}
