// The five request mixes, as URL paths. Both servers get the same lists, so any difference in
// the numbers is the service's own cost.

export type ScenarioKey = 'a' | 'b' | 'c' | 'd' | 'e' | 'd2';

export interface Scenario {
  readonly key: ScenarioKey;
  readonly title: string;
  readonly kind: 'single' | 'list';
  /** Measured for the explanation in RESULTS.md, not one of the five targets. */
  readonly informational?: boolean;
  /** Each request picks one of these at random. */
  readonly paths: readonly string[];
}

const BASE = '/api/v1/episodes';
const SHOE_BRANDS = ['Christian Louboutin', 'Gucci', 'Jimmy Choo', 'Manolo Blahnik'];
const SEARCHES = ['champagne gala', 'capsule wardrobe', 'louboutin pumps', 'silk blouse', 'rooftop party'];

export function buildScenarios(sampleIds: readonly string[]): Scenario[] {
  if (sampleIds.length === 0) throw new Error('no live episodes to read: the seed is empty');
  return [
    { key: 'a', title: 'get by id', kind: 'single', paths: sampleIds.map((id) => `${BASE}/${id}`) },
    { key: 'b', title: 'status=published', kind: 'list', paths: [`${BASE}?status=published&_limit=20`] },
    {
      key: 'c',
      title: 'wardrobe.shoes.brand',
      kind: 'list',
      paths: SHOE_BRANDS.map((brand) => `${BASE}?wardrobe.shoes.brand=${encodeURIComponent(brand)}&_limit=20`),
    },
    {
      key: 'd',
      title: 'status+season+top.color, -updated_at',
      kind: 'list',
      paths: [
        `${BASE}?status=published&season[gte]=3&wardrobe.main_outfit.top.color=champagne&_sort=-updated_at&_limit=20`,
      ],
    },
    {
      key: 'd2',
      title: '(d) with _count=estimated',
      kind: 'list',
      informational: true,
      paths: [
        `${BASE}?status=published&season[gte]=3&wardrobe.main_outfit.top.color=champagne&_sort=-updated_at&_limit=20&_count=estimated`,
      ],
    },
    {
      key: 'e',
      title: 'search q (2 words)',
      kind: 'list',
      paths: SEARCHES.map((q) => `${BASE}/search?q=${encodeURIComponent(q)}&_limit=20`),
    },
  ];
}
