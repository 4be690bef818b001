// One ajv configuration for everything the platform validates (registry YAML and records).
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule.default;

export type { Ajv2020 };

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
  addFormats(ajv, ['date', 'date-time', 'uri']);
  // Annotations codegen puts on entity schemas.
  ajv.addVocabulary(['x-registry-version', 'x-schema-version']);
  return ajv;
}
