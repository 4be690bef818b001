// The request mixes of issue 16's table. Both servers get the same lists, so any difference in
// the numbers is the service's own cost.

export type ScenarioKey = 'a' | 'g' | 'f' | 'b' | 'c' | 'd' | 'e' | 'u3' | 'w';

export interface Request {
  readonly method: 'GET' | 'PATCH';
  readonly path: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

export interface Scenario {
  readonly key: ScenarioKey;
  readonly title: string;
  /** `single`: one record by id; `list`: a list endpoint (the 50 ms target); `write`: a PATCH. */
  readonly kind: 'single' | 'list' | 'write';
  /** Issue 16: at least 0.8× the baseline's requests/s. */
  readonly ratioTarget: boolean;
  /** Each request picks one of these at random (writes: built per request). */
  readonly paths: readonly string[];
  readonly request?: () => Request;
}

const BASE = '/api/v1/episodes';
const SHOE_BRANDS = ['Christian Louboutin', 'Gucci', 'Jimmy Choo', 'Manolo Blahnik'];
const SEARCHES = ['champagne gala', 'capsule wardrobe', 'louboutin pumps', 'silk blouse', 'rooftop party'];
const TAGS = ['fashion', 'lifestyle', 'tutorial', 'styling', 'capsule', 'thrift', 'heels', 'date-night'];

const any = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;

/** `readIds`: sampled live episodes; `writeIds`: others, whose PATCHed fields the bench restores afterwards. */
export function buildScenarios(readIds: readonly string[], writeIds: readonly string[]): Scenario[] {
  if (readIds.length === 0 || writeIds.length === 0) throw new Error('no live episodes to read: the seed is empty');
  const clipIds = readIds.slice(0, 2000);
  let counter = 0;
  return [
    {
      key: 'a',
      title: 'GET by id, whole record',
      kind: 'single',
      ratioTarget: true,
      paths: readIds.map((id) => `${BASE}/${id}`),
    },
    {
      key: 'g',
      title: 'one record via list, ?id=&_fields=title,status',
      kind: 'list',
      ratioTarget: true,
      paths: readIds.map((id) => `${BASE}?id=${id}&_fields=title,status`),
    },
    {
      key: 'f',
      title: '_limit=25&_sort=-updated_at&_count=none',
      kind: 'list',
      ratioTarget: true,
      paths: [`${BASE}?_limit=25&_sort=-updated_at&_count=none`],
    },
    {
      key: 'b',
      title: 'status=published&_limit=20, with total',
      kind: 'list',
      ratioTarget: true,
      paths: [`${BASE}?status=published&_limit=20`],
    },
    {
      key: 'c',
      title: 'wardrobe.shoes.brand=…',
      kind: 'list',
      ratioTarget: true,
      paths: SHOE_BRANDS.map((brand) => `${BASE}?wardrobe.shoes.brand=${encodeURIComponent(brand)}&_limit=20`),
    },
    {
      key: 'd',
      title: 'status+season+top colour, -updated_at, total',
      kind: 'list',
      ratioTarget: false,
      paths: [
        `${BASE}?status=published&season[gte]=3&wardrobe.main_outfit.top.color=champagne&_sort=-updated_at&_limit=20`,
      ],
    },
    {
      key: 'e',
      title: 'q= two words, ranked',
      kind: 'list',
      ratioTarget: false,
      paths: SEARCHES.map((q) => `${BASE}/search?q=${encodeURIComponent(q)}&_limit=20`),
    },
    {
      key: 'u3',
      title: 'clips of an episode, talent_source=Lala&status=approved',
      kind: 'list',
      ratioTarget: false,
      paths: clipIds.map((id) => `${BASE}/${id}/clips?talent_source=Lala&status=approved`),
    },
    {
      key: 'w',
      title: 'PATCH title or tags of a random episode',
      kind: 'write',
      ratioTarget: true,
      paths: writeIds.map((id) => `${BASE}/${id}`),
      // If-Match is optional in Reelmeta (src/records/preconditions.ts): a blind merge patch.
      request: () => {
        counter += 1;
        const body =
          counter % 2 === 0
            ? { title: `Bench retitle ${counter}` }
            : { tags: [any(TAGS), any(TAGS)].filter((t, i, all) => all.indexOf(t) === i) };
        return {
          method: 'PATCH',
          path: `${BASE}/${any(writeIds)}`,
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/merge-patch+json' },
        };
      },
    },
  ];
}

/** (i): the NDJSON export, run once per server. */
export const EXPORT_PATH = `${BASE}/export?status=published`;
