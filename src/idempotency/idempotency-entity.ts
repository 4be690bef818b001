// The Idempotency-Key store's table as a platform entity (like the audit trail): not in registry/
// and never served, but described with the same EntityDef so codegen derives its table and
// migration. One row per (caller, key): claimed while its request runs, then holding the answer.
import { platformEntity, platformField } from '../audit/audit-entity.ts';
import { DEFAULT_PERMISSIONS, type EntityDef } from '../registry/model.ts';

export const IDEMPOTENCY_STATES = ['in_progress', 'completed'] as const;
export type IdempotencyState = (typeof IDEMPOTENCY_STATES)[number];

/** The draft's advice (a UUID fits easily); also the column's bound. */
export const MAX_KEY_LENGTH = 255;

const FILE = 'src/idempotency/idempotency-entity.ts';
const field = platformField(FILE);

export const IDEMPOTENCY_ENTITY: EntityDef = platformEntity({
  name: 'idempotency_key',
  plural: 'idempotency_keys',
  idPrefix: 'idem',
  description:
    'An Idempotency-Key a caller sent with a POST: the request it stands for and, once answered, the answer to replay.',
  fields: [
    field('scope', 'string', {
      required: true,
      maxLength: 300,
      description: 'Whose key it is: keys are per caller (the token subject, or X-Actor with AUTH_MODE=off).',
    }),
    field('key', 'string', { required: true, maxLength: MAX_KEY_LENGTH, description: 'The Idempotency-Key value.' }),
    field('method', 'string', { required: true, maxLength: 16, description: 'The request method.' }),
    field('path', 'string', { required: true, description: 'The request path and query.' }),
    field('fingerprint', 'string', {
      required: true,
      maxLength: 64,
      description: 'SHA-256 (hex) of method, path, query and body: another request under the same key is refused.',
    }),
    field('state', 'enum', {
      required: true,
      values: IDEMPOTENCY_STATES,
      description: 'in_progress while the first request runs; completed once its answer is stored.',
    }),
    field('claimed_at', 'datetime', { required: true, description: 'When the running request claimed the key.' }),
    field('locked_until', 'datetime', {
      description: 'in_progress: the claim lapses after this (its request died); renewed while it runs.',
    }),
    field('expires_at', 'datetime', {
      required: true,
      indexed: true,
      description: 'After this the key is forgotten (IDEMPOTENCY_KEY_TTL_HOURS) and purged.',
    }),
    field('status', 'integer', { minimum: 100, maximum: 599, description: 'The stored answer: its status.' }),
    field('headers', 'object', {
      description: 'The stored answer: the headers replayed (Content-Type, Location, ETag, …).',
    }),
    field('body', 'text', { description: 'The stored answer: its body, as sent.' }),
  ],
  unique: [['scope', 'key']],
  permissions: { ...DEFAULT_PERMISSIONS, read: 'admin' },
  file: FILE,
});
