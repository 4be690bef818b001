// One ajv configuration for everything the platform validates (registry YAML and records).
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats.js';

const addFormats = addFormatsModule.default;

export type { Ajv2020 };

/** Year 0000 is valid RFC 3339 but not a PostgreSQL date; refuse it before it reaches the database. */
export const isYearZero = (value: string): boolean => value.startsWith('0000');

function fromYearOne(name: 'date' | 'date-time'): (value: string) => boolean {
  // ajv-formats' full date formats are `{ validate, compare }` objects.
  const { validate } = fullFormats[name] as { validate: (value: string) => boolean };
  return (value) => !isYearZero(value) && validate(value);
}

/** A real calendar day (YYYY-MM-DD, leap years included) that PostgreSQL can store. */
export const isStorableDate = fromYearOne('date');

/** An RFC 3339 date-time with a real calendar day and an offset, e.g. 2025-12-31T10:00:00Z. */
export const isStorableDateTime = fromYearOne('date-time');

export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    discriminator: true,
    allowUnionTypes: true,
    useDefaults: true,
    strict: true,
    strictRequired: false, // discriminated unions list `required` beside `oneOf`
    verbose: true,
  });
  addFormats(ajv, ['uri']);
  ajv.addFormat('date', { type: 'string', validate: isStorableDate });
  ajv.addFormat('date-time', { type: 'string', validate: isStorableDateTime });
  // Annotations codegen puts on entity schemas.
  ajv.addVocabulary(['x-registry-version', 'x-schema-version']);
  return ajv;
}
