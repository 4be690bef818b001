// The registry's YAML is validated against a meta-schema: mistakes fail codegen with
// `file: path: message`, never a stack trace.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/config.ts';
import { hasSoftDelete, hasTimestamps, resolvePath } from '../src/registry/model.ts';
import { runCli } from './support/cli.ts';
import { copyProject, type ProjectCopy } from './support/project-copy.ts';
import { problemsAfter as loadProblems } from './support/registry-problems.ts';
import { shippedModel } from './support/fixtures.ts';

let copy: ProjectCopy | undefined;
afterEach(() => copy?.remove());

const EPISODE = 'registry/entities/episode.yaml';

const problemsAfter = (change: (copy: ProjectCopy) => void) => loadProblems(change, (made) => (copy = made));

describe('the registry in this repository', () => {
  it('compiles to show and episode with mixins, nested fields and aliases', () => {
    const model = shippedModel();
    expect(model.registryVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(model.apiVersions.map((v) => v.name)).toEqual(['v1']);
    expect(model.entities.map((e) => e.name)).toEqual([
      'show',
      'episode',
      'component',
      'clip',
      'ui_element',
      'background',
      'wardrobe_item',
      'outfit',
      'guest',
      'script',
      'script_version',
    ]);
    const episode = model.entities.find((e) => e.name === 'episode')!;
    expect(hasTimestamps(episode) && hasSoftDelete(episode)).toBe(true);
    expect(resolvePath(episode, ['wardrobe', 'shoes', 'color'])?.type).toBe('string');
    expect(resolvePath(episode, ['wardrobe', 'main_outfit', 'dress', 'image_reference'])?.type).toBe('s3_uri');
    expect(resolvePath(episode, ['status'])?.aliases?.['in-production']).toBe('in_production');
    expect(resolvePath(episode, ['status'])?.values).toEqual([
      'draft',
      'in_production',
      'ready_for_publish',
      'published',
      'archived',
      'on_hold',
      'canceled',
    ]);
    for (const field of [
      'filming_date',
      'edit_deadline',
      'publish_date',
      'released_at',
      'approval_status',
      'deleted_reason',
    ]) {
      expect(resolvePath(episode, [field]), field).toBeDefined();
    }
  });
});

describe('meta-schema errors', () => {
  it('reports a misspelt type with file, path, the known types and the line', () => {
    const lines = problemsAfter((c) =>
      c.edit(EPISODE, (t) => t.replace('  title:\n    type: string', '  title:\n    type: strng')),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^registry\/entities\/episode\.yaml: fields\.title\.type: unknown field type "strng"; expected one of: string, text, integer/,
    );
    expect(lines[0]).toMatch(/\(line \d+\)$/);
  });

  it('reports an unknown option and lists the allowed ones for that type', () => {
    const lines = problemsAfter((c) =>
      c.edit(EPISODE, (t) =>
        t.replace(
          '    max_length: 300\n    searchable: true\n    description: Episode title.',
          '    maxlength: 300\n    searchable: true\n    description: Episode title.',
        ),
      ),
    );
    expect(lines).toEqual([
      expect.stringMatching(
        /^registry\/entities\/episode\.yaml: fields\.title\.maxlength: unknown option "maxlength" for a string field; allowed: .*max_length, pattern/,
      ),
    ]);
  });

  it('reports options that belong to another type, missing required options and bad names', () => {
    const lines = problemsAfter((c) =>
      c.edit(EPISODE, (t) =>
        t.replace(
          'fields:\n  # --- Initial',
          'fields:\n  Bad-Name: { type: string }\n  rating: { type: integer, max_length: 3 }\n  mood: { type: enum }\n  # --- Initial',
        ),
      ),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/fields\.Bad-Name: invalid name "Bad-Name"/),
        expect.stringMatching(/fields\.rating\.max_length: unknown option "max_length" for a integer field/),
        expect.stringMatching(/fields\.mood\.values: is required/),
      ]),
    );
  });

  it('reports invalid YAML with its line', () => {
    const lines = problemsAfter((c) => c.write('registry/entities/show.yaml', 'name: show\nfields: [unclosed\n'));
    expect(lines[0]).toMatch(/^registry\/entities\/show\.yaml: \(root\): invalid YAML/);
  });

  it('reports what only the compiler can see: unknown refs, mixins, bad defaults and aliases', () => {
    const lines = problemsAfter((c) =>
      c.edit(EPISODE, (t) =>
        t
          .replace('    to: show', '    to: series')
          .replace('mixins: [timestamps, soft_delete, approval, thumbnails, categories]', 'mixins: [timestamps, audit]')
          .replace('    default: draft', '    default: finished')
          .replace('      cancelled: canceled', '      cancelled: cancelled_forever'),
      ),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /episode\.yaml: fields\.show_id\.to: unknown entity "series"; known: show, episode, component, clip, ui_element, background/,
        ),
        expect.stringMatching(/episode\.yaml: mixins\.1: unknown mixin "audit"/),
        expect.stringMatching(
          /episode\.yaml: fields\.status\.aliases\.cancelled: "cancelled_forever" is not one of the values/,
        ),
      ]),
    );
  });

  it('checks what a link roles field is computed from', () => {
    const OUTFIT = 'registry/entities/outfit.yaml';
    const wrong = (roles: string, items = 'string') =>
      problemsAfter((c) =>
        c.edit(OUTFIT, (t) =>
          t
            .replace('link_roles: { entity: episode, path: outfits }', `link_roles: ${roles}`)
            .replace('    items: { type: string }\n    link_roles', `    items: { type: ${items} }\n    link_roles`),
        ),
      );
    expect(wrong('{ entity: episodes, path: outfits }')).toEqual([
      expect.stringMatching(
        /outfit\.yaml: fields\.worn_by\.link_roles\.entity: unknown entity "episodes"; known: show/,
      ),
    ]);
    expect(wrong('{ entity: episode, path: ui_element_refs }')).toEqual([
      expect.stringMatching(
        /outfit\.yaml: fields\.worn_by\.link_roles\.path: "ui_element_refs" is not a refs field of episode pointing at outfit with a role/,
      ),
    ]);
    expect(wrong('{ entity: episode, path: outfits }', 'integer')).toEqual([
      expect.stringMatching(/outfit\.yaml: fields\.worn_by\.link_roles: link roles are strings/),
    ]);
  });

  it('checks that a default fits its field', () => {
    const lines = problemsAfter((c) =>
      c.edit(EPISODE, (t) => t.replace('    default: draft', '    default: finished')),
    );
    expect(lines).toEqual([
      expect.stringMatching(
        /episode\.yaml: fields\.status\.default: default "finished" must be equal to one of the allowed values/,
      ),
    ]);
  });

  it('reports entity files that registry.yaml does not list, and listed files that are missing', () => {
    const lines = problemsAfter((c) => {
      c.write('registry/entities/trailer.yaml', 'name: trailer\n');
      c.edit('registry/registry.yaml', (t) => t.replace(/entities: \[(.*)\]/, 'entities: [$1, trailer_cut]'));
    });
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^registry\/registry\.yaml: entities\.11: "trailer_cut" is listed but registry\/entities\/trailer_cut\.yaml does not exist/,
        ),
        expect.stringMatching(/^registry\/entities\/trailer\.yaml: \(root\): not listed under "entities"/),
      ]),
    );
  });
});

describe('evolution options in the registry', () => {
  const withSteps =
    (steps: string, extra = '') =>
    (c: ProjectCopy) =>
      c.edit(EPISODE, (t) => t.replace('schema_version: 1\n', `schema_version: 2\n${extra}upgrades:\n  2:\n${steps}`));

  it('checks that each step leads to a field of the current entity, within the declared versions', () => {
    const malformed = problemsAfter(withSteps('    - { rename: { from: a, to: b }, remove: { field: c } }\n'));
    expect(malformed).toEqual([expect.stringMatching(/^registry\/entities\/episode\.yaml: upgrades\.2\.0: /)]);
    const compiled = problemsAfter(
      withSteps(
        [
          '    - rename: { from: old_title, to: titel }',
          '    - rename: { from: runtime, to: content.duration }',
          '    - map_values: { field: status, map: { cancelled: cancel } }',
          '',
        ].join('\n'),
      ),
    );
    expect(compiled).toEqual([
      expect.stringMatching(
        /^registry\/entities\/episode\.yaml: upgrades\.2\.0\.rename: "titel" is not a field of episode/,
      ),
      expect.stringMatching(
        /upgrades\.2\.1\.rename: a rename stays within one object \("runtime" → "content\.duration"\); use move/,
      ),
      expect.stringMatching(/upgrades\.2\.1\.rename: "content\.duration" is not a field of episode/),
      expect.stringMatching(/upgrades\.2\.2\.map_values: maps to "cancel", not values of status/),
    ]);
    const tooNew = problemsAfter((c) =>
      c.edit(EPISODE, (t) =>
        t.replace(
          'schema_version: 1\n',
          'schema_version: 1\nupgrades:\n  2:\n    - set_default: { field: title, value: Untitled }\n',
        ),
      ),
    );
    expect(tooNew).toEqual([
      expect.stringMatching(/upgrades\.2: upgrades lead to versions 2\.\.1 \(schema_version is 1\)/),
    ]);
  });

  it('keeps removed names reserved', () => {
    const lines = problemsAfter((c) =>
      c.edit(EPISODE, (t) => t.replace('schema_version: 1\n', 'schema_version: 1\nreserved: [season]\n')),
    );
    expect(lines).toEqual([
      expect.stringMatching(/fields\.season: "season" is reserved: it was a removed field's name/),
    ]);
  });

  it('needs a release and deprecation dates for every API version but the current one', () => {
    const missing = problemsAfter((c) =>
      c.edit('registry/registry.yaml', (t) => t.replace(/api_versions: .*/, 'api_versions: [v1, v2]')),
    );
    expect(missing).toEqual([
      expect.stringMatching(
        /^registry\/registry\.yaml: api_versions\.0: "v1" is older than the current version: give the release/,
      ),
    ]);
    const noSnapshot = problemsAfter((c) =>
      c.edit('registry/registry.yaml', (t) =>
        t.replace(
          /api_versions: .*/,
          'api_versions: [{ name: v1, release: 0.9.0, deprecation: 2026-01-01, sunset: 2026-07-01 }, v2]',
        ),
      ),
    );
    expect(noSnapshot).toEqual([
      expect.stringMatching(/api_versions\.0\.release: no released snapshot registry\/releases\/0\.9\.0\.json/),
    ]);
  });
});

describe('npm run codegen on a broken registry', () => {
  it('exits 1 and prints file: path: message without a stack trace', async () => {
    copy = copyProject();
    copy.edit(EPISODE, (t) => t.replace('  title:\n    type: string', '  title:\n    type: strng'));
    const result = await runCli(['codegen'], copy.env);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^registry\/entities\/episode\.yaml: fields\.title\.type: unknown field type "strng"/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(copy.read('generated/openapi.json')).toBe(readFileSync(`${PROJECT_ROOT}/generated/openapi.json`, 'utf8'));
  });
});
