// A guest who registers (seed 8.9, `conversion:` in the entity's YAML): POST /{plural}/{id}/convert
// {"user_id": "…"} links the registered user and hands the guest's records over to them. In one
// transaction: the record's user field is set (once: converting to another user is refused), then
// each hand-over's matching live records get the user id in their `set` field (e.g. uploaded_by
// of the guest's clips and of the outfits episodes link under "Guest - Name"). Every write is a
// PATCH through the entity's actions: validated, permission-checked and audited as the caller.
import type { DatabasePool } from 'slonik';
import type { StoredRecord } from '../db/records.ts';
import { transact } from '../db/work.ts';
import { handOverCondition } from '../query/conversions.ts';
import type { EntityDef } from '../registry/model.ts';
import { ownValue } from '../registry/own.ts';
import type { WriteMeta } from '../audit/write-meta.ts';
import type { EntityActions } from './entity-actions.ts';
import { ApiError } from './errors.ts';
import { isPlainObject } from './record-input.ts';

/** The most records of one entity a conversion hands over; more is refused (nothing is written). */
export const MAX_HANDED_OVER = 1000;

export interface Converted {
  readonly record: StoredRecord;
  /** Records handed over, by plural (only those whose field changed). */
  readonly handedOver: Readonly<Record<string, number>>;
}

export interface ConversionContext {
  readonly pool: DatabasePool;
  readonly entities: readonly EntityDef[];
  readonly actionsOf: (entity: string) => EntityActions;
}

/** The user id in the body `{"<user field>": "…"}`, or 400. */
function userIdIn(body: unknown, field: string): string {
  const value = isPlainObject(body) ? ownValue(body, field) : undefined;
  if (typeof value !== 'string' || value.trim() === '')
    throw ApiError.single(400, 'INVALID_BODY', `send {"${field}": "…"}, the registered user's id`, field);
  return value;
}

export async function convert(
  ctx: ConversionContext,
  entity: EntityDef,
  id: string,
  body: unknown,
  meta: WriteMeta,
): Promise<Converted> {
  const conversion = entity.conversion;
  if (!conversion) throw new Error(`${entity.name} declares no conversion`);
  const userId = userIdIn(body, conversion.user);
  const actions = ctx.actionsOf(entity.name);
  actions.checkId(id);
  return transact(ctx.pool, async (tx) => {
    const { record } = await actions.patchLocked(
      id,
      (current) => {
        const linked = current[conversion.user];
        if (typeof linked === 'string' && linked !== userId)
          throw ApiError.single(
            409,
            'ALREADY_CONVERTED',
            `${entity.name} ${id} was converted to ${conversion.user} "${linked}" already`,
            conversion.user,
          );
        return { [conversion.user]: userId };
      },
      tx,
      meta,
    );
    const handedOver: Record<string, number> = {};
    for (const handOver of conversion.handOver) {
      const target = ctx.actionsOf(handOver.entity);
      const write = { tx, actionsOf: ctx.actionsOf, warnings: [], meta };
      const matched = handOverCondition(target.entity, handOver, record, userId, ctx.entities);
      if ('problems' in matched)
        throw ApiError.single(
          409,
          'CONFLICT',
          `${entity.name} ${id} cannot hand its ${target.entity.plural} over: ${matched.problems.map((p) => p.message).join('; ')}`,
        );
      const ids = await target.matchingIds(matched.condition, MAX_HANDED_OVER + 1, write);
      if (ids.length > MAX_HANDED_OVER)
        throw ApiError.single(
          409,
          'TOO_MANY_RECORDS',
          `more than ${MAX_HANDED_OVER} ${target.entity.plural} would be handed over; nothing was converted`,
        );
      // The condition leaves out records that hold the user already: each is read once, under its lock.
      for (const otherId of ids) await target.patchLocked(otherId, () => ({ [handOver.set]: userId }), tx, meta);
      handedOver[target.entity.plural] = (handedOver[target.entity.plural] ?? 0) + ids.length;
    }
    return { record, handedOver };
  });
}
