// Text PostgreSQL cannot hold as sent. U+0000 is refused by text and jsonb. A lone UTF-16
// surrogate (JSON's "\ud800" with no partner) is not a Unicode character: jsonb refuses it and a
// text column would store U+FFFD instead, so it is refused everywhere it could arrive.

// With the u flag a string is read by code points: a paired surrogate is one astral character,
// so only unpaired halves are in the Cs (surrogate) category.
const LONE_SURROGATE = /\p{Cs}/u;

export const LONE_SURROGATE_MESSAGE =
  'must not contain a lone UTF-16 surrogate (such as \\ud800 without its pair): it is not a Unicode character';

export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** Why a query's text cannot be compared with stored text, or undefined when it can. */
export function unusableText(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain the NUL character';
  if (hasLoneSurrogate(text)) return LONE_SURROGATE_MESSAGE;
  return undefined;
}
