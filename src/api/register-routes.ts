// Registering existing keys (seed 8.2, bulk import): POST /api/v1/{plural}/register, for entities
// with at least one media field. The run itself is media/register.ts; this is its HTTP edge:
// permissions, the body in the API version's shape, and the answer, either the JSON envelope
// with a status per key or, with `Accept: application/x-ndjson`, one line per key as it is done
// and a last `{"summary": …}` line. Anything wrong before the first key (the body, a 403, S3
// down) is the normal error envelope.
import type { Context, Hono } from 'hono';
import { stream } from 'hono/streaming';
import { remainingMs } from '../db/request-scope.ts';
import type { EntityDef } from '../registry/model.ts';
import { mediaFields } from '../media/media-fields.ts';
import {
  checkDefaults,
  parseRegisterBody,
  Registration,
  RegistrationStopped,
  type KeyOutcome,
  type RegisterDeps,
} from '../media/register.ts';
import { writeMeta } from './audit-routes.ts';
import { allowEach } from './authorization.ts';
import { readJsonBody } from './body.ts';
import { methodNotAllowed, sendErrors } from './envelope.ts';
import { isPlainObject } from '../records/record-input.ts';
import { queryParams } from './params.ts';
import { requireMedia, sendRecord, type MediaRouteContext } from './media-context.ts';

/** A JSON answer stops taking new keys this long before the request's deadline, to answer in time. */
const DEADLINE_SLACK_MS = 2000;

const wantsNdjson = (c: Context) => /application\/x-ndjson/i.test(c.req.header('accept') ?? '');

export function mountRegister(app: Hono, ctx: MediaRouteContext, entity: EntityDef, version: string): void {
  const path = `/api/${version}/${entity.route}/register`;
  if (mediaFields(entity).length === 0) {
    // Not a route of this entity (nothing documents it): a clear 404 rather than /{plural}/:id's 405.
    app.all(path, (c) =>
      sendErrors(c, ctx.model, 404, [
        {
          code: 'NOT_FOUND',
          message: `${entity.plural} have no media fields, so there is nothing to register`,
          field: null,
        },
      ]),
    );
    return;
  }
  // Looking up records on file needs read, making them create.
  app.post(path, allowEach([entity, 'read'], [entity, 'create']), async (c) => {
    queryParams(c, []);
    const media = requireMedia(ctx);
    const shape = ctx.shapeOf(version, entity.name);
    const raw = await readJsonBody(c);
    const body =
      isPlainObject(raw) && isPlainObject(raw.defaults) ? { ...raw, defaults: shape.bodyIn(raw.defaults) } : raw;
    const plan = parseRegisterBody(entity, body, (p) => shape.pathIn(p, 'field'));
    const deps: RegisterDeps = {
      storage: media.storage,
      pool: ctx.pool,
      store: ctx.stores.get(entity.name)!,
      actions: ctx.actionsOf.get(entity.name)!,
      actionsOf: ctx.actionsOf,
      classify: ctx.classify,
      meta: writeMeta(c, false),
    };
    await checkDefaults(plan, deps);
    const registration = new Registration(plan, deps);
    await registration.begin();

    if (!wantsNdjson(c)) {
      const outcomes: KeyOutcome[] = [];
      let summary: Awaited<ReturnType<typeof registration.run>>;
      try {
        summary = await registration.run(
          (outcome) => void outcomes.push(outcome),
          () => (remainingMs() ?? Infinity) < DEADLINE_SLACK_MS,
        );
      } catch (error) {
        // A JSON answer is all or an error: running again is safe (keys done are `exists`).
        throw error instanceof RegistrationStopped ? error.cause : error;
      }
      return sendRecord(ctx, c, version, entity, outcomes, { extra: { ...summary } });
    }

    c.header('Content-Type', 'application/x-ndjson');
    c.header('Cache-Control', 'no-store');
    return stream(c, async (out) => {
      try {
        const summary = await registration.run((outcome) =>
          out.write(`${JSON.stringify(outcome)}\n`).then(() => undefined),
        );
        await out.write(`${JSON.stringify({ summary })}\n`);
      } catch (error) {
        // The client gone: nobody reads a summary (the keys done so far are committed).
        if (out.aborted) return;
        if (!(error instanceof RegistrationStopped)) throw error;
        const cause = error.cause instanceof Error ? error.cause : new Error(String(error.cause));
        const known = ctx.classify(cause, 'POST')?.problems[0];
        const problem = known ?? {
          code: 'INTERNAL_ERROR',
          message: 'the run stopped on an unexpected error; the keys before it are done, running again is safe',
          field: null,
        };
        await out.write(`${JSON.stringify({ summary: { ...error.summary, error: problem } })}\n`);
        // Not the client's to read, but someone's to see: hono's stream helper prints it.
        if (!known) throw cause;
      }
    });
  });
  app.all(path, methodNotAllowed(ctx.model, 'POST'));
}
