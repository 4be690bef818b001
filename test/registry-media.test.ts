// Media options in the registry (registry/media.ts): a field's `media:` and an entity's
// `thumbnails:` are compiled and checked, so a bad option fails codegen with `file: path:
// message`; and the key template can never leave its prefix, whatever the values put into it.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptsContentType, parseBytes, renderKey, type MediaDef } from '../src/registry/media.ts';
import { findField, resolvePath } from '../src/registry/model.ts';
import type { ProjectCopy } from './support/project-copy.ts';
import { problemsAfter as loadProblems } from './support/registry-problems.ts';
import { shippedModel } from './support/fixtures.ts';

let copy: ProjectCopy | undefined;
afterEach(() => copy?.remove());

const CLIP = 'registry/entities/clip.yaml';
const OUTFIT = 'registry/entities/outfit.yaml';

const problemsAfter = (change: (copy: ProjectCopy) => void) => loadProblems(change, (made) => (copy = made));

const KEY = 'key: "raw/{episode_id}/{upload_id}-{filename}"';

describe('media options', () => {
  it('compile from the YAML of this repository', () => {
    const model = shippedModel();
    const clip = model.entities.find((e) => e.name === 'clip')!;
    expect(findField(clip, 'file_reference')!.media).toEqual({
      kinds: ['video', 'audio'],
      contentTypes: [],
      maxBytes: 50 * 1024 ** 3,
      key: 'raw/{episode_id}/{upload_id}-{filename}',
      prefix: 'raw/',
      verify: true,
      sizeField: 'file_size_bytes',
      etagField: 'file_etag',
    });
    const episode = model.entities.find((e) => e.name === 'episode')!;
    expect(episode.thumbnails).toEqual({
      field: 'thumbnails',
      status: 'thumbnail_status',
      sources: [
        { kind: 'image', path: ['custom_thumbnail'] },
        { kind: 'compose', over: ['wardrobe', 'main_outfit', 'overall_image'], under: ['backgrounds', 'main_closet'] },
      ],
    });
    expect(resolvePath(episode, ['custom_thumbnail'])?.media?.contentTypes).toEqual([
      'image/jpeg',
      'image/png',
      'image/webp',
    ]);
  });

  it('report bad key templates, sizes, types and companions with file and path', () => {
    const lines = problemsAfter((c) =>
      c.edit(CLIP, (t) =>
        t
          .replace(KEY, 'key: "{episode_id}/../{color}/{filename}"')
          .replace('max_bytes: 50GB', 'max_bytes: 6TB')
          .replace('kinds: [video, audio]', 'kinds: [video, audio]\n      content_types: [image/png]')
          .replace('size_field: file_size_bytes', 'size_field: notes'),
      ),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/clip\.yaml: fields\.file_reference\.media\.key: the key must start with a fixed prefix/),
        expect.stringMatching(
          /clip\.yaml: fields\.file_reference\.media\.key: the key may not hold empty, "\." or "\.\." segments/,
        ),
        expect.stringMatching(
          /clip\.yaml: fields\.file_reference\.media\.key: unknown placeholder \{color\}; use \{id\}, \{upload_id\}, \{filename\}/,
        ),
        expect.stringMatching(/clip\.yaml: fields\.file_reference\.media\.max_bytes: must be from 1 byte to 5TB/),
        expect.stringMatching(
          /clip\.yaml: fields\.file_reference\.media\.content_types: "image\/png" is not a type of video, audio/,
        ),
        expect.stringMatching(
          /clip\.yaml: fields\.file_reference\.media\.size_field: "notes" must be a writable top-level integer field of clip/,
        ),
      ]),
    );
  });

  it('are refused by the meta-schema on other field types and with unknown options', () => {
    const lines = problemsAfter((c) =>
      c.edit(CLIP, (t) =>
        t
          .replace(KEY, `${KEY}\n      thumbnails: true`)
          .replace(
            '  notes:\n    type: text',
            '  notes:\n    type: text\n    media: { kinds: [data], max_bytes: 1, key: "x/{id}" }',
          ),
      ),
    );
    expect(lines.join('\n')).toMatch(
      /clip\.yaml: fields\.file_reference\.media\.thumbnails: unknown key "thumbnails"; allowed: kinds, content_types, max_bytes, key, verify, size_field, etag_field/,
    );
    expect(lines.join('\n')).toMatch(/clip\.yaml: fields\.notes\.media: unknown option "media" for a text field/);
  });

  it('report thumbnails blocks whose fields are not what they must be', () => {
    const lines = problemsAfter((c) =>
      c.edit(OUTFIT, (t) =>
        t
          .replace(
            '    - image: custom_thumbnail',
            '    - image: name\n    - frame: overall_image\n      at_seconds: 2\n    - { image: custom_thumbnail, compose: { over: overall_image } }',
          )
          .replace('  field: thumbnails', '  field: items'),
      ),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /outfit\.yaml: thumbnails\.field: "items" must be a read_only array of s3_uri with max_items of at least 3/,
        ),
        expect.stringMatching(/outfit\.yaml: thumbnails\.sources\.0\.image: "name" must be an s3_uri field of outfit/),
        expect.stringMatching(
          /outfit\.yaml: thumbnails\.sources\.2: a source is one of image, frame \(with at_seconds\) or compose/,
        ),
      ]),
    );
  });
});

describe('a key template', () => {
  const media: MediaDef = {
    kinds: ['video'],
    contentTypes: [],
    maxBytes: 1,
    key: 'raw/{episode_id}/{upload_id}-{filename}',
    prefix: 'raw/',
    verify: true,
  };

  it('keeps every key under its prefix and adds no segment, whatever the values', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.option(fc.string({ unit: 'grapheme' })), (filename, episode) => {
        const key = renderKey(
          media,
          new Map<string, unknown>([
            ['filename', filename],
            ['episode_id', episode],
            ['upload_id', 'upl_1'],
          ]),
        );
        expect(key.startsWith('raw/')).toBe(true);
        const segments = key.split('/');
        expect(segments).toHaveLength(3);
        for (const segment of segments) expect(['', '.', '..']).not.toContain(segment);
        expect(key).toMatch(/^[A-Za-z0-9._/-]+$/);
      }),
      { numRuns: 2000 },
    );
    expect(
      renderKey(
        media,
        new Map([
          ['filename', '../../etc/passwd'],
          ['episode_id', null],
          ['upload_id', 'upl_1'],
        ]),
      ),
    ).toBe('raw/none/upl_1-____etc_passwd');
  });

  it('reads sizes in binary units and matches types by kind', () => {
    expect([parseBytes('50MB'), parseBytes('1.5 KB'), parseBytes(7), Number.isNaN(parseBytes('5 parsecs'))]).toEqual([
      52_428_800,
      1536,
      7,
      true,
    ]);
    expect([
      acceptsContentType(media, 'video/mp4'),
      acceptsContentType(media, 'VIDEO/QUICKTIME'),
      acceptsContentType(media, 'video/'),
      acceptsContentType(media, 'image/png'),
    ]).toEqual([true, true, false, false]);
  });
});
