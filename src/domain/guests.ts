// Guests (seed 8.9): contact details only with consent, a consent timestamp, a session that
// expires, and conversion to a registered user. Rules on values, so they live here, not in YAML.
import { ApiError, type ApiProblem } from '../records/errors.ts';
import { changes, type WriteRule } from '../records/write-rules.ts';

/** Fields that identify a guest personally beyond the name: stored only with consent. */
const CONTACT_FIELDS = ['business_email', 'business_phone'] as const;

export function guestRule(sessionDays: number): WriteRule {
  return async (values, current) => {
    const now = new Date();
    const consent = values.consent_given === true;
    const withdrawn = current?.consent_given === true && !consent;
    if (withdrawn) {
      // Withdrawing consent erases what it covered.
      for (const name of CONTACT_FIELDS) values[name] = null;
    }
    const problems: ApiProblem[] = CONTACT_FIELDS.filter((name) => !consent && (values[name] ?? null) !== null).map(
      (name) => ({
        code: 'CONSENT_REQUIRED',
        message: `${name} is stored only with the guest's consent: set consent_given to true`,
        field: name,
      }),
    );
    if (problems.length > 0) throw new ApiError(422, problems);

    if (consent && current?.consent_given !== true) values.consent_at = now.toISOString();
    if (!consent) values.consent_at = null;
    if (!current && (values.session_expires_at ?? null) === null) {
      values.session_expires_at = new Date(now.getTime() + sessionDays * 86_400_000).toISOString();
    }
    if (
      (values.user_id ?? null) !== null &&
      changes(values, current, 'user_id') &&
      (current?.converted_at ?? null) === null
    ) {
      values.converted_at = now.toISOString();
    }
  };
}
