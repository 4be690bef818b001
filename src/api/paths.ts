// The URLs of the API, built in one place from the model's facts: an entity's collection and
// record paths in an API version, the lists under a parent (`/shows/:id/episodes`) and the
// next-number routes of a sequence (`/shows/:id/next-episode-number`). Hono templates (`:id`).
import type { EntityDef } from '../registry/model.ts';
import type { ChildRelation, SequenceRelation } from '../registry/model.ts';

/** `/api/v1/episodes`. */
export const collectionPath = (version: string, entity: EntityDef): string => `/api/${version}/${entity.route}`;

/** `/api/v1/episodes/:id`. */
export const recordPath = (version: string, entity: EntityDef): string => `${collectionPath(version, entity)}/:id`;

/** `/api/v1/shows/:id/episodes`: the child's records that refer to the parent. */
export const childPath = (version: string, child: EntityDef, relation: ChildRelation): string =>
  `${recordPath(version, relation.parent)}/${child.route}`;

/** `/api/v1/shows/:id/next-episode-number`. */
export const sequencePath = (version: string, relation: SequenceRelation): string =>
  `${recordPath(version, relation.parent)}/next-${relation.field.name.replace(/_/g, '-')}`;
