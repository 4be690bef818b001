// `outfit_from_wardrobe: { wardrobe, outfits }`: an episode's wardrobe in the Appendix B shape,
// recorded as an outfit of wardrobe items (seed 8.4): each garment or accessory is matched to the
// item already on file with the same product (or created), the outfit with exactly those items is
// matched (or created), and the refs field `outfits` links it as "main". Reuse is then counted per
// outfit and per item (times_worn). The paths it reads are checked by registry/rule-catalog.ts.
import { isDeepStrictEqual } from 'node:util';
import type { Warning } from '../records/duplicates.ts';
import { isPlainObject } from '../records/record-input.ts';
import { changes, type Values, type WriteContext } from '../records/write-rules.ts';
import { findEntity, findField } from '../registry/model.ts';
import { parameter, type DomainRule } from './rule.ts';

/** The role of the outfit written through the episode's wardrobe. */
export const MAIN_OUTFIT_ROLE = 'main';

/** The fields and entities one use of the rule writes through. */
interface Names {
  /** The object field holding the wardrobe document. */
  readonly wardrobe: string;
  /** The refs field linking the outfits. */
  readonly outfits: string;
  /** The entity `outfits` links, and the one its `items` link. */
  readonly outfit: string;
  readonly item: string;
}

interface ItemSlot {
  /** Where it sits in the wardrobe document, for messages. */
  readonly at: string;
  /** Its role in the outfit. */
  readonly role: string;
  readonly item: Values;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;
/** "belt": "none" in Appendix B says no belt was worn. */
const worn = (value: unknown): string | undefined =>
  text(value)?.trim().toLowerCase() === 'none' ? undefined : text(value);

const pick = (source: Values, names: readonly string[]): Values =>
  Object.fromEntries(names.filter((n) => (source[n] ?? null) !== null).map((n) => [n, source[n]]));

const GARMENT = ['style', 'color', 'brand', 'size', 'notes', 'image_reference'] as const;
/** What makes two items the same product when no product_url or product_name is known. */
const IDENTITY = ['item_type', 'brand', 'product_name', 'style', 'color', 'size', 'heel_height'] as const;

/** The items the Appendix B wardrobe describes, each with its slot. */
function itemSlots(wardrobe: Values): ItemSlot[] {
  const slots: ItemSlot[] = [];
  const main = isPlainObject(wardrobe.main_outfit) ? wardrobe.main_outfit : {};
  for (const type of ['top', 'bottom', 'dress'] as const) {
    const garment = main[type];
    if (isPlainObject(garment) && Object.keys(pick(garment, GARMENT)).length > 0) {
      slots.push({ at: `main_outfit.${type}`, role: type, item: { item_type: type, ...pick(garment, GARMENT) } });
    }
  }
  const shoes = wardrobe.shoes;
  if (isPlainObject(shoes))
    slots.push({
      at: 'shoes',
      role: 'shoes',
      item: { item_type: 'shoes', ...pick(shoes, ['style', 'color', 'brand', 'heel_height', 'image_reference']) },
    });
  const purse = wardrobe.purse;
  if (isPlainObject(purse))
    slots.push({
      at: 'purse',
      role: 'purse',
      item: { item_type: 'purse', ...pick(purse, ['style', 'color', 'brand', 'size', 'image_reference']) },
    });

  const accessories = isPlainObject(wardrobe.accessories) ? wardrobe.accessories : {};
  const jewelry = isPlainObject(accessories.jewelry) ? accessories.jewelry : {};
  for (const role of ['necklace', 'earrings', 'bracelets', 'rings'] as const) {
    const style = worn(jewelry[role]);
    if (style) slots.push({ at: `accessories.jewelry.${role}`, role, item: { item_type: 'jewelry', style } });
  }
  const single = [
    ['belt', 'belt', 'belt'],
    ['scarf', 'scarf', 'scarf'],
    ['hair_accessories', 'hair_accessories', 'hair_accessory'],
  ] as const;
  for (const [name, role, type] of single) {
    const style = worn(accessories[name]);
    if (style) slots.push({ at: `accessories.${name}`, role, item: { item_type: type, style } });
  }
  const others = Array.isArray(accessories.other) ? accessories.other : [];
  others.forEach((other, index) => {
    const style = worn(other);
    if (style) slots.push({ at: `accessories.other.${index}`, role: 'other', item: { item_type: 'other', style } });
  });
  return slots;
}

const identity = (slot: ItemSlot) =>
  Object.fromEntries(IDENTITY.map((name) => [name, (slot.item[name] as string | undefined) ?? null]));

/** The item on file for this product, or a new one. */
async function recordItem(slot: ItemSlot, names: Names, ctx: WriteContext): Promise<{ id: string; created: boolean }> {
  const items = ctx.actionsOf(names.item);
  const { record, created, warnings } = await items.findOrCreate(identity(slot), slot.item, ctx);
  ctx.warnings.push(...warnings.map((w): Warning => ({ ...w, message: `${names.wardrobe}.${slot.at}: ${w.message}` })));
  return { id: record.id, created };
}

/** The outfit made of exactly these items (and the same type, pattern and photo), or a new one. */
async function recordOutfit(wardrobe: Values, names: Names, ctx: WriteContext): Promise<string | undefined> {
  const slots = itemSlots(wardrobe);
  if (slots.length === 0) return undefined;
  const links: { id: string; role: string }[] = [];
  const reused: { at: string; id: string }[] = [];
  await ctx.actionsOf(names.item).lockMatches(slots.map(identity), ctx);
  for (const slot of slots) {
    const { id, created } = await recordItem(slot, names, ctx);
    if (!created) reused.push({ at: `${names.wardrobe}.${slot.at}`, id });
    if (!links.some((l) => l.id === id && l.role === slot.role)) links.push({ id, role: slot.role });
  }
  const main = isPlainObject(wardrobe.main_outfit) ? wardrobe.main_outfit : {};
  const attributes = {
    outfit_type: main.outfit_type ?? null,
    pattern: main.pattern ?? null,
    overall_image: main.overall_image ?? null,
  };

  const outfits = ctx.actionsOf(names.outfit);
  const sameLinks = (record: Values) => {
    const have = (record.items as { id: string; role: string }[]).map((l) => `${l.role}:${l.id}`).sort();
    return isDeepStrictEqual(have, links.map((l) => `${l.role}:${l.id}`).sort());
  };
  for (const id of await outfits.idsLinking('items', links[0]!.id, ctx)) {
    const candidate = await outfits.getLive(id, ctx);
    if (
      candidate &&
      sameLinks(candidate) &&
      Object.entries(attributes).every(([k, v]) => (candidate[k] ?? null) === v)
    ) {
      ctx.warnings.push({
        code: 'REUSED',
        message: `the wardrobe is outfit ${id}, already on file`,
        fields: [names.wardrobe],
        ids: [id],
        total: 1,
      });
      return id;
    }
  }
  const { record } = await outfits.create(
    { ...pick(attributes, Object.keys(attributes)), items: links },
    ctx.tx,
    ctx.meta,
  );
  if (reused.length > 0) {
    const list = reused.map((r) => `${r.at} (${r.id})`).join(', ');
    ctx.warnings.push({
      code: 'REUSED',
      message: `new outfit ${record.id} reuses wardrobe items already on file: ${list}`,
      fields: reused.map((r) => r.at),
      ids: reused.map((r) => r.id),
      total: reused.length,
    });
  }
  return record.id;
}

/** Keeps the "main" outfit link in step with the wardrobe document. */
export const outfitFromWardrobe: DomainRule = (use, entity, model) => {
  const outfits = parameter(use, 'outfits');
  const outfit = findEntity(model, findField(entity, outfits)!.to!)!;
  const names: Names = {
    wardrobe: parameter(use, 'wardrobe'),
    outfits,
    outfit: outfit.name,
    item: findField(outfit, 'items')!.to!,
  };
  return async (values, current, ctx) => {
    if (!changes(values, current, names.wardrobe)) return;
    const others = ((values[outfits] ?? []) as { id: string; role?: string | null }[]).filter(
      (l) => l.role !== MAIN_OUTFIT_ROLE,
    );
    const wardrobe = values[names.wardrobe];
    const main = isPlainObject(wardrobe) ? await recordOutfit(wardrobe, names, ctx) : undefined;
    values[outfits] = main ? [{ id: main, role: MAIN_OUTFIT_ROLE }, ...others] : others;
  };
};
