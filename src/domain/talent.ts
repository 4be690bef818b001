// Clips filmed by a guest carry talent_source "Guest - Name" (seed Appendix C); the clip is linked
// to the guest of that name, who is added to the guest list when new.
import type { WriteRule } from '../records/write-rules.ts';

const GUEST_TALENT = /^Guest - (.+)$/;

export const clipGuestRule: WriteRule = async (values, _current, ctx) => {
  if ((values.guest_id ?? null) !== null) return;
  const name = GUEST_TALENT.exec(typeof values.talent_source === 'string' ? values.talent_source : '')?.[1]?.trim();
  if (!name) return;
  const { record } = await ctx.actionsOf('guest').findOrCreate({ name }, { name }, ctx);
  values.guest_id = record.id;
};
