// A real service over a registry copy whose entities have other permissions than the shipped
// ones, with a Cognito-style token for each caller (no role, viewer, editor, admin): the
// authorization property tests (reads and writes through relations) run against it.
import { startFakeUserPool, type FakeUserPool } from './cognito.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { copyProject, type ProjectCopy } from './project-copy.ts';
import { startTestService, type TestService } from './service.ts';
import { loadConfig } from '../../src/config.ts';
import { runCli } from './cli.ts';
import { loadModel } from '../../src/load-model.ts';
import { ROLES, type Model, type Operation, type Role } from '../../src/registry/model.ts';

export type Caller = Role | 'none';
export const CALLERS: readonly Caller[] = ['none', ...ROLES];
/** A caller's place in viewer < editor < admin; no role is below them all. */
export const rank = (caller: Caller): number => (caller === 'none' ? -1 : ROLES.indexOf(caller));

export interface RoleService {
  readonly copy: ProjectCopy;
  readonly db: TestDatabase;
  readonly service: TestService;
  /** The fake Cognito user pool that signs the tokens (a second service may trust it too). */
  readonly userPool: FakeUserPool;
  /** The copy's compiled registry. */
  readonly model: Model;
  /** The bearer token of each caller. */
  readonly tokens: ReadonlyMap<Caller, string>;
  stop(): Promise<void>;
}

export interface RoleServiceOptions {
  /** Each entity's operations with the role they need instead (its `permissions:` block). */
  readonly permissions: Readonly<Record<string, Partial<Record<Operation, Role>>>>;
  /** Further edits of the copy before it starts; `codegen: true` regenerates after them. */
  readonly edit?: (copy: ProjectCopy) => void;
  readonly codegen?: boolean;
  /** Whether the service runs queued jobs (thumbnails) in the background (default true). */
  readonly jobWorker?: boolean;
}

export async function startRoleService({
  permissions,
  edit,
  codegen = false,
  jobWorker = true,
}: RoleServiceOptions): Promise<RoleService> {
  const copy = copyProject();
  let db: TestDatabase | undefined;
  let userPool: FakeUserPool | undefined;
  let service: TestService | undefined;
  const stop = async () => {
    await service?.stop();
    await userPool?.close();
    await db?.drop();
    copy.remove();
  };
  try {
    for (const [entity, roles] of Object.entries(permissions)) {
      copy.edit(`registry/entities/${entity}.yaml`, (text) => {
        const without = text.replace(/^permissions:\n(?: {2}.*\n)*/m, '');
        const block = Object.entries(roles)
          .map(([operation, role]) => `  ${operation}: ${role}\n`)
          .join('');
        return without.replace(/^fields:$/m, `permissions:\n${block}fields:`);
      });
    }
    edit?.(copy);
    if (codegen) {
      const generated = await runCli(['codegen'], copy.env);
      if (generated.code !== 0) throw new Error(`codegen failed on the copy: ${generated.stderr}`);
    }
    const model = loadModel(copy.registryDir);
    db = await createTestDatabase();
    userPool = await startFakeUserPool();
    await userPool.addKey('key-1');
    service = await startTestService({
      databaseUrl: db.url,
      ...copy.dirs,
      authMode: 'cognito',
      cognito: userPool.settings(),
      jobs: { ...loadConfig({}).jobs, worker: jobWorker },
    });
    const tokens = new Map<Caller, string>();
    for (const caller of CALLERS)
      tokens.set(caller, await userPool.token(`${caller}-1`, caller === 'none' ? [] : [caller]));
    return { copy, db, service, userPool, model, tokens, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
