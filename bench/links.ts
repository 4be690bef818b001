// What the API's write rules would have stored for each seeded episode, as COPY text for the
// other tables: the main outfit and its wardrobe items (src/domain/wardrobe.ts), the shared UI
// elements and backgrounds by file_reference with the episode's links by slot (libraryMirror in
// src/records/write-rules.ts), and the clips (with the guests their "Guest - Name" links).
// Episodes must be fed in creation order: the first episode to use a product, an outfit or a file
// creates its record, later ones reuse it, as sequential API writes would.
import { createRng, makeId, weighted, type EpisodeRow, type Rng } from './data.ts';
import * as v from './vocabulary.ts';

/** The tables written besides episodes and shows, with their COPY columns. */
export const LINK_TABLES = {
  wardrobe_items: [
    'id',
    'schema_version',
    'item_type',
    'brand',
    'style',
    'color',
    'size',
    'heel_height',
    'image_reference',
    'created_at',
    'updated_at',
  ],
  outfits: ['id', 'schema_version', 'outfit_type', 'pattern', 'overall_image', 'created_at', 'updated_at'],
  outfits_items: ['owner_id', 'target_id', 'role', 'position'],
  episodes_outfits: ['owner_id', 'target_id', 'role', 'position'],
  ui_elements: ['id', 'schema_version', 'name', 'file_reference', 'created_at', 'updated_at'],
  backgrounds: ['id', 'schema_version', 'name', 'file_reference', 'created_at', 'updated_at'],
  episodes_ui_element_refs: ['owner_id', 'target_id', 'role', 'position'],
  episodes_background_refs: ['owner_id', 'target_id', 'role', 'position'],
  guests: ['id', 'schema_version', 'name', 'created_at', 'updated_at'],
  clips: [
    'id',
    'schema_version',
    'episode_id',
    'talent_source',
    'guest_id',
    'clip_type',
    'file_reference',
    'file_size_bytes',
    'duration_seconds',
    'timecode_in',
    'timecode_out',
    'scene_description',
    'take_number',
    'quality_rating',
    'status',
    'tags',
    'created_at',
    'updated_at',
  ],
} as const;
export type LinkTable = keyof typeof LINK_TABLES;

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;
const cell = (value: unknown) =>
  value === null || value === undefined ? '\\N' : typeof value === 'object' ? JSON.stringify(value) : String(value);
const line = (values: readonly unknown[]) => `${values.map(cell).join('\t')}\n`;

interface Item {
  readonly role: string;
  readonly values: Obj;
}

const GARMENT = ['style', 'color', 'brand', 'size', 'image_reference'] as const;
const pick = (source: Obj, names: readonly string[]): Obj =>
  Object.fromEntries(names.filter((n) => (source[n] ?? null) !== null).map((n) => [n, source[n]]));

/** src/domain/wardrobe.ts itemSlots, for the shapes the generator writes. */
function itemSlots(wardrobe: Obj): Item[] {
  const out: Item[] = [];
  const main = isObj(wardrobe.main_outfit) ? wardrobe.main_outfit : {};
  for (const type of ['top', 'bottom', 'dress'] as const) {
    const garment = main[type];
    if (isObj(garment) && Object.keys(pick(garment, GARMENT)).length > 0)
      out.push({ role: type, values: { item_type: type, ...pick(garment, GARMENT) } });
  }
  if (isObj(wardrobe.shoes))
    out.push({
      role: 'shoes',
      values: {
        item_type: 'shoes',
        ...pick(wardrobe.shoes, ['style', 'color', 'brand', 'heel_height', 'image_reference']),
      },
    });
  if (isObj(wardrobe.purse))
    out.push({
      role: 'purse',
      values: { item_type: 'purse', ...pick(wardrobe.purse, ['style', 'color', 'brand', 'size', 'image_reference']) },
    });
  const accessories = isObj(wardrobe.accessories) ? wardrobe.accessories : {};
  const jewelry = isObj(accessories.jewelry) ? accessories.jewelry : {};
  for (const role of ['necklace', 'earrings', 'bracelets', 'rings']) {
    const style = str(jewelry[role]);
    if (style && style.toLowerCase() !== 'none') out.push({ role, values: { item_type: 'jewelry', style } });
  }
  for (const [name, type] of [
    ['belt', 'belt'],
    ['scarf', 'scarf'],
    ['hair_accessories', 'hair_accessory'],
  ] as const) {
    const style = str(accessories[name]);
    if (style && style.toLowerCase() !== 'none') out.push({ role: name, values: { item_type: type, style } });
  }
  const others = Array.isArray(accessories.other) ? accessories.other : [];
  for (const other of others) {
    const style = str(other);
    if (style && style.toLowerCase() !== 'none') out.push({ role: 'other', values: { item_type: 'other', style } });
  }
  return out;
}

const IDENTITY = ['item_type', 'brand', 'product_name', 'style', 'color', 'size', 'heel_height'] as const;

interface Slot {
  readonly role: string;
  readonly uri: string;
  readonly name: string;
}

/** libraryMirror's slots, in the registry's field order (registry/entities/episode.yaml). */
function uiSlots(ui: Obj): Slot[] {
  const out: Slot[] = [];
  const add = (role: string, uri: unknown, name = role) => {
    if (typeof uri === 'string') out.push({ role, uri, name });
  };
  add('computer_mouse', ui.computer_mouse);
  add('login_screen', ui.login_screen);
  const accessories = isObj(ui.screen_accessories) ? ui.screen_accessories : {};
  for (const name of ['minimize', 'maximize', 'exit']) add(`screen_accessories.${name}`, accessories[name]);
  const custom = Array.isArray(accessories.custom) ? accessories.custom : [];
  custom.forEach((element: unknown, index) => {
    if (!isObj(element)) return;
    const name = typeof element.name === 'string' ? element.name : `screen_accessories.custom ${index + 1}`;
    add(`screen_accessories.custom.${index}.file`, element.file, name);
  });
  add('icon_holder', ui.icon_holder);
  return out;
}

function backgroundSlots(bg: Obj): Slot[] {
  const out: Slot[] = [];
  const add = (role: string, uri: unknown, name = role) => {
    if (typeof uri === 'string') out.push({ role, uri, name });
  };
  add('main_closet', bg.main_closet);
  add('photoshoot', bg.photoshoot);
  add('event', bg.event);
  const additional = Array.isArray(bg.additional) ? bg.additional : [];
  additional.forEach((element: unknown, index) => {
    if (!isObj(element)) return;
    const name = typeof element.name === 'string' ? element.name : `additional ${index + 1}`;
    add(`additional.${index}.file`, element.file, name);
  });
  return out;
}

const TALENT = [
  ['Lala', 60],
  ['JustAWomanInHerPrime', 30],
  ['guest', 10],
] as const;
const CLIP_TYPES = ['raw', 'raw', 'raw', 'b_roll', 'bts', 'interview', 'voiceover'] as const;
const CLIP_STATUS = ['approved', 'approved', 'pending_review', 'rejected', 'used', 'used'] as const;
const QUALITY = ['hero', 'good', 'good', 'maybe', 'reject', null] as const;
const SCENES = ['outfit reveal', 'closet walk-through', 'shoe close-up', 'talking head', 'street style', 'unboxing'];
const pad = (n: number) => String(n).padStart(2, '0');
const timecode = (seconds: number, frame: number) =>
  `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}:${pad(frame)}`;

export class LinkCatalog {
  private readonly rng: Rng = createRng(0x5eed_1175);
  private readonly items = new Map<string, string>();
  private readonly outfits = new Map<string, string>();
  private readonly ui = new Map<string, string>();
  private readonly backgrounds = new Map<string, string>();
  private readonly guests = new Map<string, string>();
  private readonly counts = { wi: 0, out: 0, uie: 0, bg: 0, guest: 0, clip: 0 };
  /** Clips per episode, on average (BENCH_CLIPS ÷ episodes). */
  private readonly clipRate: number;
  private clipsOwed = 0;
  clipCount = 0;

  constructor(clipRate: number) {
    this.clipRate = clipRate;
  }

  private id(prefix: keyof LinkCatalog['counts'], ms: number): string {
    const index = this.counts[prefix];
    this.counts[prefix] += 1;
    return makeId(prefix, ms, index, this.rng);
  }

  /** Appends the rows `episode` brings to `out`, one text chunk per table. */
  add(episode: EpisodeRow, out: Record<LinkTable, string[]>): void {
    const at = new Date(episode.created).toISOString();
    // The wardrobe's items (found by product identity, else created), then its outfit.
    const links: { id: string; role: string }[] = [];
    for (const slot of itemSlots(episode.wardrobe)) {
      const key = JSON.stringify(IDENTITY.map((name) => slot.values[name] ?? null));
      let id = this.items.get(key);
      if (id === undefined) {
        id = this.id('wi', episode.created);
        this.items.set(key, id);
        const s = slot.values;
        out.wardrobe_items.push(
          line([id, 1, s.item_type, s.brand, s.style, s.color, s.size, s.heel_height, s.image_reference, at, at]),
        );
      }
      if (!links.some((l) => l.id === id && l.role === slot.role)) links.push({ id, role: slot.role });
    }
    if (links.length > 0) {
      const main = isObj(episode.wardrobe.main_outfit) ? episode.wardrobe.main_outfit : {};
      const attributes = [main.outfit_type ?? null, main.pattern ?? null, main.overall_image ?? null];
      const key = JSON.stringify([links.map((l) => `${l.role}:${l.id}`).sort(), attributes]);
      let outfit = this.outfits.get(key);
      if (outfit === undefined) {
        outfit = this.id('out', episode.created);
        this.outfits.set(key, outfit);
        out.outfits.push(line([outfit, 1, ...attributes, at, at]));
        links.forEach((l, position) => out.outfits_items.push(line([outfit, l.id, l.role, position])));
      }
      out.episodes_outfits.push(line([episode.id, outfit, 'main', 0]));
    }
    this.library(episode, uiSlots(episode.uiElements), this.ui, 'uie', out.ui_elements, out.episodes_ui_element_refs);
    this.library(
      episode,
      backgroundSlots(episode.backgrounds),
      this.backgrounds,
      'bg',
      out.backgrounds,
      out.episodes_background_refs,
    );
    this.clips(episode, at, out);
  }

  private library(
    episode: EpisodeRow,
    slots: readonly Slot[],
    known: Map<string, string>,
    prefix: 'uie' | 'bg',
    records: string[],
    refs: string[],
  ): void {
    const at = new Date(episode.created).toISOString();
    slots.forEach((slot, position) => {
      let id = known.get(slot.uri);
      if (id === undefined) {
        id = this.id(prefix, episode.created);
        known.set(slot.uri, id);
        records.push(line([id, 1, slot.name.slice(0, 200), slot.uri, at, at]));
      }
      refs.push(line([episode.id, id, slot.role, position]));
    });
  }

  /** About clipRate clips per episode, filmed by Lala, JustAWomanInHerPrime or the episode's guest. */
  private clips(episode: EpisodeRow, at: string, out: Record<LinkTable, string[]>): void {
    const rng = this.rng;
    this.clipsOwed += this.clipRate;
    const count = Math.floor(this.clipsOwed);
    this.clipsOwed -= count;
    for (let k = 0; k < count; k += 1) {
      let talent: string = weighted(rng, TALENT);
      let guestId: string | null = null;
      if (talent === 'guest') {
        const name = episode.guest ?? v.PEOPLE[Math.floor(rng() * v.PEOPLE.length)]!;
        talent = `Guest - ${name}`;
        guestId = this.guests.get(name) ?? null;
        if (guestId === null) {
          guestId = this.id('guest', episode.created);
          this.guests.set(name, guestId);
          out.guests.push(line([guestId, 1, name, at, at]));
        }
      }
      const id = this.id('clip', episode.created);
      const start = Math.floor(rng() * 3000);
      const length = 5 + Math.floor(rng() * 300);
      const status = CLIP_STATUS[Math.floor(rng() * CLIP_STATUS.length)]!;
      out.clips.push(
        line([
          id,
          1,
          episode.id,
          talent,
          guestId,
          CLIP_TYPES[Math.floor(rng() * CLIP_TYPES.length)],
          `s3://reelmeta-media/raw/${episode.id}/${id}.mp4`,
          length * 2_500_000 + Math.floor(rng() * 1_000_000),
          length + Math.floor(rng() * 25) / 25,
          timecode(start, 0),
          timecode(start + length, Math.floor(rng() * 25)),
          `${SCENES[Math.floor(rng() * SCENES.length)]} in ${v.COLORS[Math.floor(rng() * v.COLORS.length)]}`,
          1 + Math.floor(rng() * 4),
          QUALITY[Math.floor(rng() * QUALITY.length)],
          status,
          rng() < 0.5 ? [v.TAGS[Math.floor(rng() * v.TAGS.length)]] : [],
          at,
          at,
        ]),
      );
      this.clipCount += 1;
    }
  }
}

export const emptyChunks = (): Record<LinkTable, string[]> =>
  Object.fromEntries(Object.keys(LINK_TABLES).map((t) => [t, []])) as unknown as Record<LinkTable, string[]>;
