// Domain rules and behaviour options are declared in YAML and checked when the registry compiles:
// an unknown rule, a rule whose fields are missing or renamed, or an option naming the wrong field
// fails codegen and registry:check with `file: path: message`. The behaviour options work on any
// entity (here a show), and src/domain/ implements exactly the rules registry/rule-catalog.ts lists.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, loadConfig } from '../src/config.ts';
import { DOMAIN_RULES } from '../src/domain/index.ts';
import { fieldBehaviourRules } from '../src/records/field-behaviours.ts';
import { recordSettings } from '../src/records/settings.ts';
import { loadModel } from '../src/load-model.ts';
import { findEntity } from '../src/registry/model.ts';
import { RULE_CATALOG } from '../src/registry/rule-catalog.ts';
import type { WriteContext } from '../src/records/write-rules.ts';
import type { StoredRecord } from '../src/db/records.ts';
import { runCli } from './support/cli.ts';
import { copyProject, type ProjectCopy } from './support/project-copy.ts';
import { problemsAfter as loadProblems } from './support/registry-problems.ts';

let copy: ProjectCopy | undefined;
afterEach(() => copy?.remove());
const problemsAfter = (change: (copy: ProjectCopy) => void) => loadProblems(change, (made) => (copy = made));

const EPISODE = 'registry/entities/episode.yaml';
const CLIP = 'registry/entities/clip.yaml';
const GUEST = 'registry/entities/guest.yaml';
const SHOW = 'registry/entities/show.yaml';
const WARDROBE_RULE = 'outfit_from_wardrobe: { wardrobe: wardrobe, outfits: outfits }';

describe('domain rules declared in YAML', () => {
  it('are implemented in src/domain/ exactly as registry/rule-catalog.ts lists them', () => {
    expect([...DOMAIN_RULES.keys()].sort()).toEqual([...RULE_CATALOG.keys()].sort());
    const model = loadModel(path.join(PROJECT_ROOT, 'registry'));
    expect(findEntity(model, 'episode')!.rules.map((r) => r.name)).toEqual(['outfit_from_wardrobe']);
    expect(findEntity(model, 'clip')!.rules).toEqual([
      {
        name: 'guest_from_talent',
        fields: new Map([
          ['talent', 'talent_source'],
          ['guest', 'guest_id'],
        ]),
      },
    ]);
  });

  it('report an unknown rule and list the known ones', () => {
    const lines = problemsAfter((c) => c.edit(EPISODE, (t) => t.replace(WARDROBE_RULE, 'outfit_from_closet: {}')));
    expect(lines).toEqual([
      expect.stringMatching(
        /^registry\/entities\/episode\.yaml: rules\.outfit_from_closet: unknown rule "outfit_from_closet"; known: outfit_from_wardrobe, guest_from_talent \(line \d+\)$/,
      ),
    ]);
  });

  it('report a missing or unknown parameter and a field of the wrong type', () => {
    const lines = problemsAfter((c) =>
      c.edit(EPISODE, (t) => t.replace(WARDROBE_RULE, 'outfit_from_wardrobe: { wardrobe: title, looks: outfits }')),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /episode\.yaml: rules\.outfit_from_wardrobe\.looks: unknown parameter "looks"; outfit_from_wardrobe takes wardrobe, outfits/,
        ),
        expect.stringMatching(
          /episode\.yaml: rules\.outfit_from_wardrobe: missing parameter "outfits": the refs field it uses/,
        ),
        expect.stringMatching(
          /episode\.yaml: rules\.outfit_from_wardrobe\.wardrobe: "title" must be an object field \(it is a string\)/,
        ),
      ]),
    );
  });

  it('catch a field renamed in YAML that a rule uses, at any depth and in other entities', () => {
    const lines = problemsAfter((c) => {
      c.edit(CLIP, (t) => t.replaceAll('  guest_id:\n', '  guest_ref:\n'));
      c.edit(EPISODE, (t) => t.replace('      shoes:\n', '      footwear:\n'));
      c.edit('registry/entities/wardrobe_item.yaml', (t) => t.replace('  product_name:\n', '  product_title:\n'));
    });
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /clip\.yaml: rules\.guest_from_talent\.guest: unknown field "guest_id" of clip; fields: episode_id, talent_source, guest_ref/,
        ),
        expect.stringMatching(
          /episode\.yaml: rules\.outfit_from_wardrobe\.wardrobe: "wardrobe" needs a field "shoes" \(object\)/,
        ),
        expect.stringMatching(
          /episode\.yaml: rules\.outfit_from_wardrobe\.outfits: wardrobe_item \(through "outfits → outfit\.items"\) needs a field "product_name" \(string or text\)/,
        ),
      ]),
    );
  });

  it('refuse a rule that would create records whose other required fields it cannot fill', () => {
    const lines = problemsAfter((c) =>
      c.edit(GUEST, (t) =>
        t.replace('  business_name:\n    type: string\n', '  business_name:\n    type: string\n    required: true\n'),
      ),
    );
    expect(lines).toEqual([
      expect.stringMatching(
        /clip\.yaml: rules\.guest_from_talent\.guest: guest requires business_name, which the rule cannot fill when it creates one/,
      ),
    ]);
  });

  it('fail npm run codegen and npm run registry:check with file: path: message', async () => {
    copy = copyProject();
    copy.edit(EPISODE, (t) => t.replace(WARDROBE_RULE, 'outfit_from_closet: {}'));
    const line = /registry\/entities\/episode\.yaml: rules\.outfit_from_closet: unknown rule "outfit_from_closet"/;
    const [codegen, check] = await Promise.all([
      runCli(['codegen'], copy.env),
      runCli(['registry', 'check'], copy.env),
    ]);
    expect(codegen.code).toBe(1);
    expect(codegen.stderr).toMatch(line);
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(line);
    // Two CLI processes start tsx: slow on a busy machine.
  }, 180_000);
});

describe('behaviour options', () => {
  it('report fields that are missing, of the wrong type, or not server-set', () => {
    const lines = problemsAfter((c) =>
      c.edit(GUEST, (t) =>
        t
          .replace('with_consent: consent_given', 'with_consent: consent')
          .replace('with_consent: consent_given', 'with_consent: name')
          .replace('stamp: { when_set: user_id }', 'stamp: { when_set: user }')
          .replace('    read_only: true\n    stamp: { when_set: consent_given', '    stamp: { when_set: consent_given')
          .replace('default_from_now: { days: 30', 'default: "2030-01-01T00:00:00Z"\n    default_from_now: { days: 30'),
      ),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /guest\.yaml: fields\.business_email\.with_consent: "consent" must be a boolean field of guest; boolean fields: consent_given/,
        ),
        expect.stringMatching(
          /guest\.yaml: fields\.business_phone\.with_consent: "name" must be a boolean field of guest/,
        ),
        expect.stringMatching(
          /guest\.yaml: fields\.converted_at\.stamp\.when_set: "user" must be another stored field of guest; fields: name,/,
        ),
        expect.stringMatching(
          /guest\.yaml: fields\.consent_at\.stamp: a stamp is set by the server: add read_only: true/,
        ),
        expect.stringMatching(
          /guest\.yaml: fields\.session_expires_at\.default_from_now: a field with default_from_now cannot be required or have a default too/,
        ),
      ]),
    );
  });

  it('are options of the field types they fit', () => {
    const lines = problemsAfter((c) =>
      c.edit(GUEST, (t) => t.replace('  notes: { type: text', '  notes: { type: text, stamp: { when_set: name }')),
    );
    expect(lines).toEqual([
      expect.stringMatching(/guest\.yaml: fields\.notes\.stamp: unknown option "stamp" for a text field/),
    ]);
  });

  it('name settings the service offers', () => {
    const model = loadModel(path.join(PROJECT_ROOT, 'registry'));
    const settings = recordSettings(loadConfig({}));
    const named = model.entities.flatMap((e) => e.fields.flatMap((f) => f.defaultFromNow?.setting ?? []));
    expect(named).toEqual(['guest_session_days']);
    for (const setting of named) expect(settings.has(setting)).toBe(true);
  });

  it('work on any entity: consent gating, stamps and defaults some days ahead on a show', async () => {
    copy = copyProject();
    copy.edit(
      SHOW,
      (t) => `${t.trimEnd()}
  newsletter: { type: boolean, default: false }
  contact_email: { type: string, with_consent: newsletter }
  opted_in_at: { type: datetime, read_only: true, stamp: { when_set: newsletter, clear_when_unset: true } }
  review_by: { type: datetime, default_from_now: { days: 7, setting: show_review_days } }
`,
    );
    const show = findEntity(loadModel(copy.registryDir), 'show')!;
    const rules = fieldBehaviourRules(show, new Map([['show_review_days', 3]]));
    const ctx = {} as WriteContext;
    const write = async (values: Record<string, unknown>, current?: Record<string, unknown>) => {
      for (const rule of rules) await rule(values, current as StoredRecord | undefined, ctx);
      return values;
    };
    await expect(write({ contact_email: 'a@example.com' })).rejects.toMatchObject({
      status: 422,
      problems: [{ code: 'CONSENT_REQUIRED', field: 'contact_email' }],
    });
    const created = await write({ newsletter: true, contact_email: 'a@example.com' });
    expect(Date.parse(created.opted_in_at as string)).toBeGreaterThan(Date.now() - 60_000);
    expect(Math.round((Date.parse(created.review_by as string) - Date.now()) / 86_400_000)).toBe(3);
    const kept = await write({ newsletter: true, contact_email: 'a@example.com' }, { ...created, opted_in_at: 'then' });
    expect(kept.opted_in_at).toBeUndefined();
    const withdrawn = await write(
      { newsletter: false, contact_email: 'a@example.com' },
      { ...created, opted_in_at: 'then' },
    );
    expect(withdrawn).toMatchObject({ contact_email: null, opted_in_at: null });
  });
});
