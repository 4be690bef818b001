// The domain rules, by entity: what the registry cannot say. Everything else is YAML.
import type { WriteRule } from '../records/write-rules.ts';
import { guestRule } from './guests.ts';
import { clipGuestRule } from './talent.ts';
import { wardrobeRule } from './wardrobe.ts';

export interface DomainSettings {
  /** How long a guest session lasts unless given (seed 8.9: 30 days, or 7 for stricter privacy). */
  readonly guestSessionDays: number;
}

export const DEFAULT_DOMAIN_SETTINGS: DomainSettings = { guestSessionDays: 30 };

export function domainRules(settings: DomainSettings): Readonly<Record<string, readonly WriteRule[]>> {
  return {
    episode: [wardrobeRule],
    clip: [clipGuestRule],
    guest: [guestRule(settings.guestSessionDays)],
  };
}
