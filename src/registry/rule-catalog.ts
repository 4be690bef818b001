// The domain rules an entity may declare under `rules:`, and the fields each one needs. The
// implementations live in src/domain/ (which this layer may not import); this table is what the
// registry checks YAML against, so a renamed field or an unknown rule fails codegen. A test keeps
// it and src/domain/'s implementations in step.
import type { FieldType } from './model.ts';

/** What a rule needs of a field it reads or writes. */
export interface FieldNeed {
  /** The types it may have. */
  readonly type: readonly FieldType[];
  /** object: fields it must have; ref, refs: fields the target entity must have. */
  readonly fields?: Readonly<Record<string, FieldNeed>>;
  /** enum: values it must accept. */
  readonly values?: readonly string[];
  /**
   * ref, refs: the rule creates target records from the fields above alone, so the target may
   * require no other field.
   */
  readonly creates?: true;
}

export interface RuleSpec {
  readonly description: string;
  /** Parameter → what the field the YAML names for it needs; every parameter must be named. */
  readonly parameters: Readonly<Record<string, FieldNeed>>;
}

const TEXT: readonly FieldType[] = ['string', 'text'];
const need = (type: FieldType | readonly FieldType[], more: Omit<FieldNeed, 'type'> = {}): FieldNeed => ({
  type: typeof type === 'string' ? [type] : type,
  ...more,
});
const text = need(TEXT);
const uri = need('s3_uri');
const object = (fields: Record<string, FieldNeed>) => need('object', { fields });
const GARMENT = object({ style: text, color: text, brand: text, size: text, notes: text, image_reference: uri });

export const RULE_CATALOG: ReadonlyMap<string, RuleSpec> = new Map<string, RuleSpec>([
  [
    'outfit_from_wardrobe',
    {
      description:
        'an Appendix B wardrobe document is recorded as an outfit of wardrobe items (each matched or created), linked as "main"',
      parameters: {
        wardrobe: object({
          main_outfit: object({
            outfit_type: need('enum'),
            top: GARMENT,
            bottom: GARMENT,
            dress: GARMENT,
            pattern: text,
            overall_image: uri,
          }),
          shoes: object({ style: text, color: text, brand: text, heel_height: text, image_reference: uri }),
          purse: object({ style: text, color: text, brand: text, size: text, image_reference: uri }),
          accessories: object({
            jewelry: object({ necklace: text, earrings: text, bracelets: text, rings: text }),
            belt: text,
            scarf: text,
            hair_accessories: text,
            other: need('array'),
          }),
        }),
        outfits: need('refs', {
          creates: true,
          fields: {
            outfit_type: need('enum'),
            pattern: text,
            overall_image: uri,
            items: need('refs', {
              creates: true,
              fields: {
                item_type: need('enum', {
                  values: [
                    'top',
                    'bottom',
                    'dress',
                    'shoes',
                    'purse',
                    'jewelry',
                    'belt',
                    'scarf',
                    'hair_accessory',
                    'other',
                  ],
                }),
                brand: text,
                product_name: text,
                style: text,
                color: text,
                size: text,
                heel_height: text,
                notes: text,
                image_reference: uri,
              },
            }),
          },
        }),
      },
    },
  ],
  [
    'guest_from_talent',
    {
      description: 'a "Guest - Name" talent links the guest of that name, created when new',
      parameters: {
        talent: need(['enum', 'string']),
        guest: need('ref', { creates: true, fields: { name: need('string') } }),
      },
    },
  ],
]);
