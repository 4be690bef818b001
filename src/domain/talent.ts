// `guest_from_talent: { talent, guest }`: clips filmed by a guest carry talent "Guest - Name" (seed
// Appendix C); the record is linked through the ref `guest` to the guest of that name, who is
// added to the guest list when new.
import { findField } from '../registry/model.ts';
import { parameter, type DomainRule } from './rule.ts';

const GUEST_TALENT = /^Guest - (.+)$/;

export const guestFromTalent: DomainRule = (use, entity) => {
  const talent = parameter(use, 'talent');
  const guest = parameter(use, 'guest');
  const guests = findField(entity, guest)!.to!;
  return async (values, _current, ctx) => {
    if ((values[guest] ?? null) !== null) return;
    const name = GUEST_TALENT.exec(typeof values[talent] === 'string' ? values[talent] : '')?.[1]?.trim();
    if (!name) return;
    const { record } = await ctx.actionsOf(guests).findOrCreate({ name }, { name }, ctx);
    values[guest] = record.id;
  };
};
