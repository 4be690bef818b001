// Synthetic but registry-valid shows and episodes, as COPY text lines. Deterministic (seeded
// PRNG; dates relative to the seed's start), so two seeds of the same size hold the same data
// and results stay comparable.
import * as v from './vocabulary.ts';

/** Bump when the generated data changes shape, so an old seed is not reused. */
export const GENERATOR_VERSION = 'episodes-v5-links';

/** Explicit COPY column list: generated columns (search_vector) must never be written. */
export const EPISODE_COLUMNS = [
  'id',
  'schema_version',
  'title',
  'show_id',
  'episode_number',
  'season',
  'status',
  'content',
  'wardrobe',
  'ui_elements',
  'backgrounds',
  'filming_date',
  'edit_deadline',
  'publish_date',
  'released_at',
  'description',
  'duration_seconds',
  'release_date',
  'tags',
  'thumbnail_url',
  'thumbnails',
  'guest_info',
  'location',
  'copyright',
  'language',
  'geographic_availability',
  'production_notes',
  'created_at',
  'updated_at',
  'deleted_at',
  'deleted_by',
  'deleted_reason',
  'approval_status',
  'uploaded_by',
  'doc',
] as const;

/** The suffix keeps 5 characters for a bijection of the row number, so ids never collide. */
export const MAX_ROWS = 36 ** 5;

const DAY_MS = 86_400_000;
const SPAN_MS = 3 * 365 * DAY_MS;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export type Rng = () => number;

/** mulberry32: tiny, fast, good enough for test data. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const int = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;
const chance = (rng: Rng, p: number) => rng() < p;

export function weighted<T>(rng: Rng, entries: readonly (readonly [T, number])[]): T {
  const sum = entries.reduce((s, [, w]) => s + w, 0);
  let r = rng() * sum;
  for (const [value, w] of entries) {
    r -= w;
    if (r < 0) return value;
  }
  return entries[entries.length - 1]![0];
}

const STATUS_WEIGHTS = [
  ['published', 40],
  ['draft', 12],
  ['in_production', 12],
  ['ready_for_publish', 9],
  ['archived', 12],
  ['on_hold', 8],
  ['canceled', 7],
] as const;
const OUTFIT_WEIGHTS = [
  ['separates', 45],
  ['dress', 30],
  ['suit', 8],
  ['jumpsuit', 7],
  ['set', 7],
  ['other', 3],
] as const;

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const compactDay = (ms: number) => day(ms).replace(/-/g, '');

/** `prefix_YYYYMMDD_` + 10 of [a-z0-9]: five random characters interleaved with a scrambled row number. */
export function makeId(prefix: string, ms: number, index: number, rng: Rng): string {
  let scrambled = (index * 7919 + 104_729) % MAX_ROWS; // 7919 is coprime to 36: a bijection on [0, 36^5)
  let suffix = '';
  for (let k = 0; k < 5; k += 1) {
    suffix += ALPHABET[Math.floor(rng() * 36)]! + ALPHABET[scrambled % 36]!;
    scrambled = Math.floor(scrambled / 36);
  }
  return `${prefix}_${compactDay(ms)}_${suffix}`;
}

const slugify = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
const s3 = (bucket: string, key: string) => `s3://${bucket}/${key}`;

export interface ShowRow {
  readonly id: string;
  readonly title: string;
  readonly slug: string;
  readonly description: string;
  readonly status: string;
  readonly hosts: string;
  readonly language: string;
  readonly created_at: string;
}

export function makeShows(now: number): ShowRow[] {
  const rng = createRng(20_251_125);
  return v.SHOWS.map((title, i) => {
    const created = now - SPAN_MS - int(rng, 30, 400) * DAY_MS;
    return {
      id: makeId('show', created, i, rng),
      title,
      slug: slugify(title),
      description: `${title}: ${pick(rng, v.ADJECTIVES).toLowerCase()} fashion and lifestyle episodes hosted by ${pick(rng, v.PEOPLE)}.`,
      status: i < 16 ? 'active' : i < 18 ? 'on_hold' : 'ended',
      hosts: JSON.stringify([pick(rng, v.PEOPLE), ...(chance(rng, 0.3) ? [pick(rng, v.PEOPLE)] : [])]),
      language: 'en-US',
      created_at: new Date(created).toISOString(),
    };
  });
}

interface Garment {
  style: string;
  color: string;
  brand: string;
  size: string;
}

const garment = (rng: Rng, styles: readonly string[]): Garment => ({
  style: pick(rng, styles),
  color: pick(rng, v.COLORS),
  brand: pick(rng, v.BRANDS),
  size: pick(rng, v.SIZES),
});

function wardrobe(rng: Rng, id: string) {
  const outfitType = weighted(rng, OUTFIT_WEIGHTS);
  const mainOutfit: Record<string, unknown> = { outfit_type: outfitType };
  if (outfitType === 'dress') mainOutfit.dress = garment(rng, v.DRESSES);
  else if (outfitType === 'jumpsuit') mainOutfit.dress = garment(rng, v.JUMPSUITS);
  else {
    mainOutfit.top = garment(rng, v.TOPS);
    mainOutfit.bottom = garment(rng, v.BOTTOMS);
  }
  if (chance(rng, 0.6)) mainOutfit.pattern = pick(rng, v.PATTERNS);
  if (chance(rng, 0.5)) mainOutfit.overall_image = s3('reelmeta-wardrobe', `${id}/outfit.jpg`);
  const shoeStyle = pick(rng, v.SHOE_STYLES);
  const shoes: Record<string, unknown> = {
    style: shoeStyle,
    color: pick(rng, v.COLORS),
    brand: weighted(rng, v.SHOE_BRAND_WEIGHTS),
  };
  if (/heels|pumps/.test(shoeStyle)) shoes.heel_height = `${int(rng, 2, 5)} inches`;
  if (chance(rng, 0.4)) shoes.image_reference = s3('reelmeta-wardrobe', `${id}/shoes.jpg`);
  const purse = { style: pick(rng, v.PURSE_STYLES), color: pick(rng, v.COLORS), brand: pick(rng, v.BRANDS) };
  const accessories: Record<string, unknown> = {
    jewelry: { necklace: pick(rng, v.JEWELRY), earrings: pick(rng, v.JEWELRY) },
  };
  if (chance(rng, 0.3)) accessories.belt = `${pick(rng, v.COLORS)} leather belt`;
  if (chance(rng, 0.2)) accessories.scarf = `${pick(rng, v.COLORS)} silk scarf`;
  if (chance(rng, 0.3)) accessories.other = ['sunglasses', ...(chance(rng, 0.5) ? ['hair clip'] : [])];
  return { main_outfit: mainOutfit, shoes, purse, accessories };
}

/** 20 to 60 words of synopsis, built around what was actually worn. */
function description(rng: Rng, w: ReturnType<typeof wardrobe>, place: string, occasionRare: boolean): string {
  const outfit = w.main_outfit as { top?: Garment; bottom?: Garment; dress?: Garment };
  const occasion = occasionRare ? pick(rng, v.RARE_OCCASIONS) : pick(rng, v.OCCASIONS);
  const shoes = w.shoes as { color: string; style: string; brand: string };
  const sentences = [
    outfit.dress
      ? `${pick(rng, v.PEOPLE)} styles a ${outfit.dress.color} ${outfit.dress.style} from ${outfit.dress.brand} for ${occasion}.`
      : `${pick(rng, v.PEOPLE)} styles a ${outfit.top!.color} ${outfit.top!.style} with ${outfit.bottom!.style} for ${occasion}.`,
    `The look is finished with ${shoes.color} ${shoes.style} by ${shoes.brand}${shoes.brand === 'Christian Louboutin' ? ' and their signature red soles' : ''}.`,
  ];
  const extras = [
    `We pair a ${w.purse.brand} ${w.purse.style} with ${pick(rng, v.JEWELRY)} and talk about building a ${pick(rng, v.SEASONS)} wardrobe that lasts.`,
    'Tips on fit, fabric care and tailoring are shared along the way.',
    `Viewers asked for more ${pick(rng, v.SEASONS)} outfit ideas, so this one is packed with them.`,
    `Behind the scenes, the crew turns the ${place.toLowerCase()} into a set for the shoot.`,
    chance(rng, 0.15)
      ? 'Every piece here belongs to a ten-item capsule that mixes and matches all season.'
      : 'Three ways to restyle one statement piece close out the episode.',
    chance(rng, 0.05)
      ? 'A champagne colored palette ties the whole look together.'
      : `Expect plenty of ${pick(rng, v.COLORS)} and ${pick(rng, v.COLORS)} tones.`,
  ];
  const target = int(rng, 20, 60);
  let words = wordCount(sentences[0]!) + wordCount(sentences[1]!);
  while (words < target && extras.length > 0) {
    const next = extras.splice(Math.floor(rng() * extras.length), 1)[0]!;
    sentences.push(next);
    words += wordCount(next);
  }
  const text = sentences.join(' ');
  return words > 60 ? `${text.split(' ').slice(0, 60).join(' ').replace(/[.,]$/, '')}.` : text;
}

function wordCount(text: string): number {
  let count = 1;
  for (let at = text.indexOf(' '); at !== -1; at = text.indexOf(' ', at + 1)) count += 1;
  return count;
}

/** ui_elements has only a dozen variants: serialise each once. */
const uiCache = new Map<string, { json: string; value: Record<string, unknown> }>();
function uiElements(season: string, custom: boolean): { json: string; value: Record<string, unknown> } {
  const key = `${season}/${custom}`;
  let cached = uiCache.get(key);
  if (cached === undefined) {
    const value = {
      computer_mouse: s3('reelmeta-ui', 'cursors/pointer-v2.png'),
      login_screen: s3('reelmeta-ui', `login/${season}.png`),
      screen_accessories: {
        minimize: s3('reelmeta-ui', 'chrome/minimize.png'),
        maximize: s3('reelmeta-ui', 'chrome/maximize.png'),
        exit: s3('reelmeta-ui', 'chrome/exit.png'),
        ...(custom ? { custom: [{ name: 'shopping bag icon', file: s3('reelmeta-ui', 'custom/bag.png') }] } : {}),
      },
      icon_holder: s3('reelmeta-ui', 'chrome/icon-holder.png'),
    };
    cached = { json: JSON.stringify(value), value };
    uiCache.set(key, cached);
  }
  return cached;
}

// COPY text format: backslash, tab, newline and carriage return would need escaping (and JSON
// escapes quotes with a backslash). Every string
// comes from the vocabulary or from fixed templates, so checking the vocabulary once here spares
// a scan of every cell of every row.
const UNSAFE = /[\\"\u0000-\u001f]/; // a double quote becomes \" inside JSON
for (const [name, list] of Object.entries(v)) {
  const bad = (list as readonly unknown[]).flat(2).find((item) => typeof item === 'string' && UNSAFE.test(item));
  if (bad !== undefined)
    throw new Error(`bench vocabulary ${name} has a string COPY would need escaped: ${JSON.stringify(bad)}`);
}
type Cell = string | number | null | object;
const cell = (value: Cell) =>
  value === null
    ? '\\N'
    : typeof value === 'string'
      ? value
      : typeof value === 'number'
        ? String(value)
        : JSON.stringify(value);

export interface EpisodeContext {
  readonly n: number;
  readonly now: number;
  readonly showIds: readonly string[];
  readonly rng: Rng;
}

/** What the linked records of an episode are derived from (bench/links.ts). */
export interface EpisodeRow {
  readonly id: string;
  readonly created: number;
  readonly wardrobe: Record<string, unknown>;
  readonly uiElements: Record<string, unknown>;
  readonly backgrounds: Record<string, unknown>;
  readonly guest: string | null;
  readonly status: string;
  /** The COPY line, with its newline. */
  readonly line: string;
}

/** One COPY line (with its newline) for row `i` of `n`, in EPISODE_COLUMNS order. */
export function episodeLine(i: number, ctx: EpisodeContext): string {
  return episodeRow(i, ctx).line;
}

export function episodeRow(i: number, ctx: EpisodeContext): EpisodeRow {
  const { rng, now } = ctx;
  // Rows come in creation order over three years, as if inserted over time: ids then correlate with heap order.
  const created = Math.min(now - 60_000, now - SPAN_MS + ((i + rng()) / ctx.n) * SPAN_MS);
  const id = makeId('ep', created, i, rng);
  const updated = created + rng() ** 3 * (now - created);
  const status = weighted(rng, STATUS_WEIGHTS);
  // Each show's seasons fill up in turn, so (show_id, season, episode_number) is unique as the registry requires.
  const showId = ctx.showIds[i % ctx.showIds.length]!;
  const season = 1 + (Math.floor(i / ctx.showIds.length) % 12);
  const episodeNumber = 1 + Math.floor(i / (ctx.showIds.length * 12));
  const filming = created + int(rng, -10, 20) * DAY_MS;
  const publish = filming + int(rng, 14, 45) * DAY_MS;
  const [placeName, city, country] = pick(rng, v.PLACES);
  const rareOccasion = chance(rng, 0.04);
  const w = wardrobe(rng, id);
  const theme = pick(rng, v.THEMES);
  const guest = chance(rng, 0.3) ? pick(rng, v.PEOPLE) : null;
  const title = [
    rareOccasion && chance(rng, 0.5) ? 'Champagne Gala Glam' : `${pick(rng, v.ADJECTIVES)} ${theme}`,
    chance(rng, 0.4) ? `: ${pick(rng, v.SEASONS)} edition` : '',
    guest ? ` with ${guest}` : '',
    chance(rng, 0.1) ? ` (Part ${int(rng, 2, 4)})` : '',
  ].join('');
  const tags = Array.from({ length: int(rng, 0, 6) }, () => pick(rng, v.TAGS)).filter(
    (t, k, all) => all.indexOf(t) === k,
  );
  const deleted = chance(rng, 0.01);
  const published = status === 'published' || status === 'archived';
  const ui = uiElements(pick(rng, v.SEASONS), chance(rng, 0.2));
  const backgrounds = {
    main_closet: s3('reelmeta-media', `backgrounds/closet/${int(rng, 1, 12)}.jpg`),
    photoshoot: s3('reelmeta-media', `backgrounds/photoshoot/${int(rng, 1, 30)}.jpg`),
    event: s3('reelmeta-media', `backgrounds/events/${int(rng, 1, 40)}.mp4`),
    additional: Array.from({ length: int(rng, 0, 2) }, (_, k) => ({
      name: `${city} location ${k + 1}`,
      file: s3('reelmeta-media', `backgrounds/locations/${id}_${k + 1}.jpg`),
      location: `${placeName}, ${city}`,
    })),
  };
  const values: Cell[] = [
    id,
    1,
    title,
    showId,
    episodeNumber,
    season,
    status,
    {
      script: s3('reelmeta-scripts', `episodes/${id}/script_v${int(rng, 1, 4)}.pdf`),
      ...(status !== 'draft' ? { trailer: s3('reelmeta-media', `trailers/${id}.mp4`) } : {}),
      ...(published ? { trailer_url: `https://cdn.reelmeta.example/trailers/${id}.mp4` } : {}),
    },
    w,
    ui.json, // already JSON text
    backgrounds,
    day(filming),
    day(filming + int(rng, 7, 13) * DAY_MS),
    status === 'draft' && chance(rng, 0.5) ? null : day(publish),
    published ? new Date(publish + int(rng, 8, 20) * 3_600_000).toISOString() : null,
    description(rng, w, placeName, rareOccasion),
    int(rng, 300, 5400),
    published || chance(rng, 0.5) ? day(publish) : null,
    tags,
    `https://cdn.reelmeta.example/thumbs/${id}.jpg`,
    [
      s3('reelmeta-media', `thumbnails/${id}/1280x720.jpg`),
      ...(chance(rng, 0.5) ? [s3('reelmeta-media', `thumbnails/${id}/640x360.jpg`)] : []),
    ],
    guest
      ? {
          name: guest,
          role: pick(rng, v.GUEST_ROLES),
          business_name: pick(rng, v.BUSINESSES),
          bio_url: `https://guests.reelmeta.example/${slugify(guest)}`,
        }
      : null,
    { name: placeName, city, country },
    `© ${new Date(created).getUTCFullYear()} Lala Studios`,
    pick(rng, v.LANGUAGES),
    v.COUNTRIES.filter(() => chance(rng, 0.4)),
    chance(rng, 0.5)
      ? {
          lighting_setup: 'Two softboxes and a warm key light',
          camera_setup: '4K, 35mm prime',
          color_palette: [pick(rng, v.COLORS), pick(rng, v.COLORS)],
        }
      : null,
    new Date(created).toISOString(),
    new Date(updated).toISOString(),
    deleted ? new Date(updated).toISOString() : null,
    deleted ? 'lala' : null,
    deleted ? pick(rng, ['duplicate upload', 'wrong show', 'replaced by a re-edit']) : null,
    'approved',
    pick(rng, v.PEOPLE),
    {},
  ];
  return {
    id,
    created,
    wardrobe: w,
    uiElements: ui.value,
    backgrounds,
    guest,
    status,
    line: `${values.map(cell).join('\t')}\n`,
  };
}

/**
 * COPY text for rows [start, end). Each block of rows has its own PRNG seeded by its first row,
 * so the data does not depend on how many COPY streams share the work.
 */
export function episodeBlock(start: number, end: number, ctx: Omit<EpisodeContext, 'rng'>): string {
  const blockCtx = { ...ctx, rng: createRng(0x2545f491 ^ start) };
  let text = '';
  for (let i = start; i < end; i += 1) text += episodeLine(i, blockCtx);
  return text;
}
