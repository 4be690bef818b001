// Every example in the docs runs as written against the current release. Each ```sh block that
// calls the API (README.md, docs/*.md) runs in bash against a real service and S3, with
// `localhost:8080` pointed at the test's port and nothing else changed: every call answers 2xx
// or 3xx, except the ones the docs say fail (a "(422)" in a comment above them). A ```bash block
// shows commands that need what the test cannot give them (a streaming replica, another host):
// read, not run; each is exercised by the test its section names. The "Proposing a
// field" walkthrough in docs/evolving-the-registry.md runs step by step on a copy of the project,
// and each command prints what the docs show.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/config.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase } from './support/database.ts';
import { useServiceForFile } from './support/file-service.ts';
import { copyProject } from './support/project-copy.ts';

const DOCS = ['README.md', ...readdirSync(path.join(PROJECT_ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);
const read = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), 'utf8');

interface Fence {
  readonly lang: string;
  readonly text: string;
}

/** The fenced blocks of a markdown text, in order, each without the indentation of its fence. */
function fences(markdown: string): Fence[] {
  return [...markdown.matchAll(/^( *)```(\w*)\n([\s\S]*?)^\1```$/gm)].map(([, indent = '', lang = '', body = '']) => ({
    lang,
    text: body
      .split('\n')
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
      .join('\n'),
  }));
}

const shellExamples = DOCS.flatMap((file) =>
  fences(read(file))
    .filter((f) => f.lang === 'sh' && f.text.includes('localhost:8080'))
    .map((f, index) => ({ name: `${file} #${index + 1}`, script: f.text })),
);

/** Statuses the docs announce as failures, in order: "(422)" in a comment line. */
const announcedFailures = (script: string): number[] =>
  script
    .split('\n')
    .filter((line) => line.trimStart().startsWith('#'))
    .flatMap((line) => [...line.matchAll(/\((\d{3})\)/g)].map((m) => Number(m[1])));

/** Every curl reports its status, method and URL on stderr (the examples' own output is left alone). */
const REPORTING_CURL = `curl() { command curl -w '%{stderr}@@ %{http_code} %{method} %{url_effective}\\n' "$@"; }\nset -eo pipefail\n`;

function runShell(script: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', REPORTING_CURL + script],
      {
        cwd,
        // `require('sharp')` in an example resolves from the project's packages.
        env: { PATH: process.env.PATH, HOME: cwd, NODE_PATH: path.join(PROJECT_ROOT, 'node_modules') },
        timeout: 90_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the shell examples in README.md and docs/', () => {
  const file = useServiceForFile();
  const scratch = mkdtempSync(path.join(tmpdir(), 'reelmeta-docs-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('finds the examples (the tour, the query language, media, idempotency)', () => {
    expect(shellExamples.map((e) => e.name)).toEqual(
      expect.arrayContaining(['README.md #1', 'docs/query-language.md #1', 'docs/media.md #1', 'docs/api.md #1']),
    );
  });

  it.each(shellExamples)('$name runs as written', async ({ script }) => {
    const host = new URL(file.service.url).host;
    const result = await runShell(script.replaceAll('localhost:8080', host), scratch);
    const calls = [...result.stderr.matchAll(/^@@ (\d{3}) (\S+) (\S+)$/gm)].map(([, status, method, url]) => ({
      status: Number(status),
      call: `${method} ${url}`,
    }));
    const context = `${result.stderr}\n${result.stdout.slice(0, 4000)}`;
    expect(result.code, context).toBe(0);
    expect(calls.length, context).toBeGreaterThan(0);
    const failed = calls.filter((c) => c.status < 200 || c.status >= 400);
    expect(
      failed.map((c) => c.status),
      context,
    ).toEqual(announcedFailures(script));
    expect(result.stdout).not.toContain('INTERNAL_ERROR');
  });
});

describe('"Proposing a field" in docs/evolving-the-registry.md', () => {
  const doc = read('docs/evolving-the-registry.md');
  const section = doc.slice(doc.indexOf('## Proposing a field'), doc.indexOf('## Compatibility rules'));
  const blocks = fences(section);
  /** A block of printed output, as the docs show it ("$ command" lines left out). */
  const printed = (index: number) =>
    blocks[index]!.text.split('\n')
      .filter((line) => !line.startsWith('$ '))
      .join('\n')
      .trimEnd();

  it('prints what the docs show at each step, from the YAML change to the release and the migration', async () => {
    expect(blocks.map((b) => b.lang)).toEqual(['yaml', '', '', 'sql', '', '', '', '', '', 'yaml', '']);
    const copy = copyProject();
    const db = await createTestDatabase();
    try {
      // The outputs name files relative to the project, as they are in a checkout.
      const cli = async (args: string[], env: Record<string, string> = {}) => {
        const result = await runCli(args, { ...copy.env, ...env });
        const out = (text: string) =>
          text
            .replaceAll(`${path.relative(PROJECT_ROOT, copy.root)}/`, '')
            .replaceAll(`${copy.root}/`, '')
            .trimEnd();
        return { code: result.code, stdout: out(result.stdout), stderr: out(result.stderr) };
      };
      const EPISODE = 'registry/entities/episode.yaml';
      const setVersion = (version: string) =>
        copy.edit('registry/registry.yaml', (t) =>
          t.replace(/^registry_version: .*$/m, `registry_version: ${version}`),
        );

      // 1. The field, under `fields:`; 2. the check asks for the bump.
      copy.edit(EPISODE, (t) => t.replace(/^fields:\n/m, `fields:\n${blocks[0]!.text}`));
      const asked = await cli(['registry', 'check']);
      expect(asked.code).toBe(1);
      expect(asked.stdout).toBe(printed(1));

      // 3. The bump; 4. codegen writes the files the docs list ("…" stands for the others), and this migration.
      setVersion('2.3.0');
      const generated = await cli(['codegen']);
      expect(generated.code, generated.stderr).toBe(0);
      const [head = '', tail = ''] = printed(2).split('\n…\n');
      expect(generated.stdout.startsWith(head), generated.stdout).toBe(true);
      expect(generated.stdout.endsWith(tail), generated.stdout).toBe(true);
      const migration = /^new migration: (\S+)/m.exec(tail)![1]!;
      expect(copy.read(`migrations/${migration}.up.sql`)).toContain(blocks[3]!.text.trimEnd());

      // 5. The check passes; 6. the diff says the same for people.
      expect(await cli(['registry', 'check'])).toMatchObject({ code: 0, stdout: printed(4) });
      expect(await cli(['registry', 'diff'])).toMatchObject({ code: 0, stdout: printed(5) });
      expect(copy.read('generated/CHANGELOG.md')).toContain('## Unreleased (registry_version 2.3.0)');

      // 8. The release, once.
      expect(await cli(['registry', 'release'])).toMatchObject({ code: 0, stdout: printed(6) });
      expect((await cli(['registry', 'release'])).stdout).toBe(
        'registry/releases/2.3.0.json is already released with this contract; nothing to do',
      );

      // 9. A database at the committed migrations, then the new one.
      expect((await runCli(['migrate'], { DATABASE_URL: db.url })).code).toBe(0);
      expect(await cli(['migrate'], { DATABASE_URL: db.url })).toMatchObject({ code: 0, stdout: printed(7) });

      // The breaking change: removing the field again in 2.4.0 fails, and 3.0.0 with its step passes.
      copy.edit(EPISODE, (t) => t.replace(blocks[0]!.text, ''));
      setVersion('2.4.0');
      expect(await cli(['registry', 'check'])).toMatchObject({ code: 1, stdout: printed(8) });
      setVersion('3.0.0');
      copy.edit(EPISODE, (t) => t.replace(/^schema_version: 1\n/m, blocks[9]!.text));
      expect(await cli(['registry', 'check'])).toMatchObject({ code: 0, stdout: printed(10) });
    } finally {
      await db.drop();
      copy.remove();
    }
  }, 240_000);
});
