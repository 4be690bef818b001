// Whether the two servers gave the same answer: the whole body (records field for field, link
// arrays included, and the envelope's totals and cursors), minus what differs by design.
import { isDeepStrictEqual } from 'node:util';

const IGNORED_METADATA = ['timestamp', 'registry_version'];

function normalise(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || !('metadata' in body)) return body;
  const { metadata, ...rest } = body as { metadata: Record<string, unknown> };
  return {
    ...rest,
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).filter(([k]) => !IGNORED_METADATA.includes(k))),
  };
}

/** The first path where two JSON values differ, e.g. `data[3].ui_element_refs[0].id`. */
function firstDifference(a: unknown, b: unknown, at: string): string | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  if (
    typeof a !== 'object' ||
    typeof b !== 'object' ||
    a === null ||
    b === null ||
    Array.isArray(a) !== Array.isArray(b)
  )
    return `${at || '(body)'}: ${JSON.stringify(a)?.slice(0, 120)} vs ${JSON.stringify(b)?.slice(0, 120)}`;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const path = Array.isArray(a) ? `${at}[${key}]` : at ? `${at}.${key}` : key;
    const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path);
    if (found) return found;
  }
  return `${at}: differ`;
}

/** undefined when the answers agree, else where they first differ. */
export function compareAnswers(reelmeta: unknown, baseline: unknown): string | undefined {
  return firstDifference(normalise(reelmeta), normalise(baseline), '');
}
