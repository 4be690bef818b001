// Text normalization a string field declares (`normalize:`, seed 8.16's tag normalization): the
// one spelling a value is stored in and compared as, so " Fashion ", "FASHION" and "fashion" are
// one tag. Applied to written values (records/record-input.ts) and to query values (types.ts).

/** `trim`: surrounding spaces dropped and inner runs of white space made one space; `lower`, `upper`: and that case. */
export const NORMALIZE_MODES = ['trim', 'lower', 'upper'] as const;
export type NormalizeMode = (typeof NORMALIZE_MODES)[number];

export function normalizeText(text: string, mode: NormalizeMode): string {
  const spaced = text.trim().replace(/\s+/gu, ' ');
  return mode === 'lower' ? spaced.toLowerCase() : mode === 'upper' ? spaced.toUpperCase() : spaced;
}
