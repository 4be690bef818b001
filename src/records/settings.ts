// Named numbers the registry's field options may refer to (`default_from_now: { setting: … }`),
// taken from the service's configuration; an option whose setting is not given uses its own days.
import type { Config } from '../config.ts';

export type RecordSettings = ReadonlyMap<string, number>;

/** The settings this service offers the registry, by the name the YAML uses. */
export function recordSettings(config: Pick<Config, 'guestSessionDays'>): RecordSettings {
  return new Map([['guest_session_days', config.guestSessionDays]]);
}
