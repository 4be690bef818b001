// The committed test data, loaded one way: the seed's Appendix B episodes and Appendix C clips and
// components (test/fixtures/), and the shipped registry compiled.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { loadModel } from '../../src/load-model.ts';
import type { Model } from '../../src/registry/model.ts';

/** The fields the server sets on every record, which a client does not send. */
const SERVER_OWNED = ['id', 'created_at', 'updated_at', 'schema_version'];

const readFixture = (appendix: string, name: string) =>
  JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'test/fixtures', appendix, `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;

/** An Appendix B episode as a client would send it: without the fields the server owns. */
export function appendixB(name: string): Record<string, unknown> {
  const record = readFixture('appendix-b', name);
  for (const key of SERVER_OWNED) delete record[key];
  return record;
}

/** An Appendix B episode exactly as the appendix writes it, ids and timestamps included. */
export const appendixBAsWritten = (name: string): Record<string, unknown> => readFixture('appendix-b', name);

/** An Appendix C record (a clip or a component) exactly as the appendix writes it. */
export const appendixC = (name: string): Record<string, unknown> => readFixture('appendix-c', name);

/** The project's own registry (registry/), loaded and compiled afresh. */
export const shippedModel = (): Model => loadModel(path.join(PROJECT_ROOT, 'registry'));
