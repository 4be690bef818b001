// POST /api/v1/{plural}/import (the `import` permission, admins by default): NDJSON or CSV as
// export writes them, streamed in and answered as a stream of one result per line, then a
// summary line. The records layer does the work (records/import.ts); this is its HTTP edge.
import type { Context } from 'hono';
import { stream } from 'hono/streaming';
import type { EntityDef } from '../registry/model.ts';
import { IMPORT_FORMATS, importRecords, readRecords, type ImportFormat } from '../records/import.ts';
import { ApiError } from '../records/errors.ts';
import { writeMeta } from './audit-routes.ts';
import { booleanParam, queryParams } from './params.ts';
import { collectionPath } from './paths.ts';
import type { Route } from './route.ts';
import { errorResponse } from './openapi/components.ts';
import { MAX_IMPORT_BYTES } from './body.ts';

/** The body's bytes as they arrive, at most MAX_IMPORT_BYTES. */
async function* bodyChunks(c: Context): AsyncGenerator<Uint8Array> {
  const body = c.req.raw.body;
  if (!body) return;
  let size = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_IMPORT_BYTES)
      throw ApiError.single(413, 'PAYLOAD_TOO_LARGE', `the import is larger than ${MAX_IMPORT_BYTES} bytes`);
    yield chunk;
  }
}

export function importRoute(entity: EntityDef, version: string): Route {
  return {
    method: 'post',
    path: `${collectionPath(version, entity)}/import`,
    operationId: `${version}_import_${entity.plural}`,
    summary: `Import ${entity.plural} from NDJSON or CSV, keeping their ids and timestamps`,
    description:
      'One record per line (NDJSON) or row (CSV with a header row, as export writes them), upserted by id: a new id is created with it, an existing one replaced; created_at and updated_at are kept, an older schema_version is upgraded first. Each line is its own transaction and gets its own result; `dry_run=true` checks everything and writes nothing. The answer streams one JSON line per input line `{"line", "status": "created|updated|unchanged|failed", "id", "errors"}` and a last line `{"summary": {…}}`. Re-running an import changes nothing (`unchanged`).',
    tags: [entity.plural],
    parameters: [
      { name: 'format', in: 'query', schema: { enum: [...IMPORT_FORMATS], default: 'ndjson' } },
      { name: 'dry_run', in: 'query', schema: { type: 'boolean', default: false } },
    ],
    requestBody: {
      required: true,
      content: {
        'application/x-ndjson': { schema: { type: 'string' } },
        'text/csv': { schema: { type: 'string' } },
      },
    },
    responses: {
      200: {
        description: 'One result per line, then the summary',
        content: { 'application/x-ndjson': { schema: { type: 'string' } } },
      },
      400: errorResponse('A bad format or dry_run'),
      413: errorResponse(`Body over ${MAX_IMPORT_BYTES} bytes`),
    },
    permission: [
      [entity, 'import'],
      [entity, 'create'],
      [entity, 'update'],
    ],
    handler: (services) => {
      const target = {
        entity,
        actions: services.actionsOf.get(entity.name)!,
        store: services.stores.get(entity.name)!,
        pool: services.pool,
      };
      return async (c) => {
        const params = queryParams(c, ['format', 'dry_run']);
        const format = (params.get('format') ?? 'ndjson') as ImportFormat;
        if (!IMPORT_FORMATS.includes(format))
          throw ApiError.single(400, 'INVALID_QUERY', `format must be one of: ${IMPORT_FORMATS.join(', ')}`, 'format');
        const dryRun = booleanParam(params, 'dry_run');
        const meta = writeMeta(c, false);
        c.header('Content-Type', 'application/x-ndjson');
        return stream(c, async (out) => {
          const results = importRecords(target, readRecords(format, bodyChunks(c), entity), {
            meta,
            dryRun,
            classify: services.classify,
          });
          try {
            for (;;) {
              const next = await results.next();
              if (next.done) {
                await out.write(`${JSON.stringify({ summary: next.value })}\n`);
                return;
              }
              await out.write(`${JSON.stringify(next.value)}\n`);
            }
          } catch (error) {
            // The answer has begun: the failure is its last line (what came before it was imported).
            const problems =
              error instanceof ApiError
                ? error.problems
                : [
                    {
                      code: 'IMPORT_STOPPED',
                      message: 'the import stopped on a server error; it has been logged',
                      field: null,
                    },
                  ];
            if (!(error instanceof ApiError)) services.ops.logger.error({ err: error }, 'import stopped');
            await out.write(`${JSON.stringify({ errors: problems })}\n`);
          }
        });
      };
    },
  };
}
