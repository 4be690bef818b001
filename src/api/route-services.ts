// What the route handlers of one app share: every entity's store and write actions (with their
// rules, cascades and media checks wired), the versioned records, the audit log, each API
// version's shape of each entity, the media services and the ops settings. Made once per app;
// every API version's routes use the same ones.
import type { ReplicaStatus } from '../db/replicas.ts';
import type { Logger } from 'pino';
import type { Ajv2020 } from '../registry/ajv.ts';
import type { JsonSchema } from '../registry/json-schema.ts';
import type { EntityDef, Model } from '../registry/model.ts';
import type { DatabasePool } from '../db/pool.ts';
import { RecordStore } from '../db/records.ts';
import { AuditLog } from '../audit/audit-log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { domainRules } from '../domain/index.ts';
import { fieldBehaviourRules } from '../records/field-behaviours.ts';
import type { RecordSettings } from '../records/settings.ts';
import type { MediaServices } from '../media/services.ts';
import { MediaWriteCheck } from '../media/verify-writes.ts';
import { ApiShape } from './api-shape.ts';
import type { Referrer, ReferrersOf } from '../records/cascade.ts';
import { EntityActions } from '../records/entity-actions.ts';
import type { FeedTokens } from '../auth/feed-tokens.ts';
import type { ErrorClassifier } from '../records/failures.ts';
import type { MediaRouteContext } from './media-context.ts';
import { RecordInput } from '../records/record-input.ts';
import { VersionedRecords } from '../records/versions.ts';
import { partMirror } from '../records/part-mirror.ts';
import type { ExpirySweep } from '../records/expiry.ts';
import { libraryMirror } from '../records/write-rules.ts';
import { thumbnailRecords } from './thumbnail-routes.ts';

export interface OpsServices {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The migration versions this build ships; /ready waits until all are applied. */
  readonly migrations: readonly number[];
  /** True once shutdown began: /ready answers 503 so a load balancer stops sending. */
  readonly isDraining: () => boolean;
  /** Read replicas, when configured: /ready shows each one's state and lag. */
  readonly replicas?: { status(): readonly ReplicaStatus[] };
}

export interface RouteServices extends MediaRouteContext {
  readonly audit: AuditLog;
  /** Entities with versions (a script's), by the owner's name. */
  readonly versioned: ReadonlyMap<string, VersionedRecords>;
  readonly ops: OpsServices;
  /** The document /openapi.json serves. */
  readonly openapi: JsonSchema;
  /** Erases lapsed personal data (`expiry:`) before a single read serves it; absent in bare apps. */
  readonly expiry?: ExpirySweep;
  /** Signs and checks calendar feed URLs (auth/feed-tokens.ts). */
  readonly feeds: FeedTokens;
}

export interface ServicesOptions {
  readonly model: Model;
  readonly pool: DatabasePool;
  readonly ajv: Ajv2020;
  readonly classify: ErrorClassifier;
  /** The settings field options name (e.g. guest_session_days). */
  readonly settings?: RecordSettings;
  readonly media?: MediaServices;
  readonly ops: OpsServices;
  readonly openapi: JsonSchema;
  readonly expiry?: ExpirySweep;
  /** Signs and checks calendar feed URLs. */
  readonly feeds: FeedTokens;
}

export function createServices({
  model,
  pool,
  ajv,
  classify,
  settings = new Map(),
  media,
  ops,
  openapi,
  expiry,
  feeds,
}: ServicesOptions): RouteServices {
  const stores = new Map(model.entities.map((entity) => [entity.name, new RecordStore(pool, entity, model.entities)]));
  // Every entity's referrers, so a delete can follow cascades through other entities.
  const referrers = new Map<string, Referrer[]>(
    model.entities.map((entity) => [
      entity.name,
      model.entities.flatMap((other) =>
        other.fields
          .filter((f) => ((f.type === 'ref' && f.storage === 'column') || f.type === 'refs') && f.to === entity.name)
          .map((field) => ({ entity: other, store: stores.get(other.name)!, field })),
      ),
    ]),
  );
  const referrersOf: ReferrersOf = (entity) => referrers.get(entity.name) ?? [];
  const audit = new AuditLog(pool);
  const actionsOf = new Map(
    model.entities.map((entity) => [
      entity.name,
      new EntityActions(
        entity,
        stores.get(entity.name)!,
        new RecordInput(entity, model, ajv),
        pool,
        referrersOf,
        audit,
      ),
    ]),
  );
  const lookup = (name: string) => actionsOf.get(name)!;
  const mediaCheck = media ? new MediaWriteCheck(media.storage) : undefined;
  for (const actions of actionsOf.values()) actions.useMediaCheck(mediaCheck);
  for (const entity of model.entities) {
    const mirrors = entity.fields.filter((f) => f.library).map((field) => libraryMirror(entity, field, model));
    const rules = [...mirrors, ...fieldBehaviourRules(entity, settings), ...domainRules(entity, model)];
    actionsOf.get(entity.name)!.useRules(rules, lookup);
  }
  // The thumbnail service gets each entity's records, so writes that change a source queue a job.
  for (const entity of model.entities.filter((e) => e.thumbnails))
    media?.thumbnails?.attach(thumbnailRecords(entity, actionsOf.get(entity.name)!, stores.get(entity.name)!));
  for (const entity of model.entities) expiry?.attach(entity, actionsOf.get(entity.name)!, stores.get(entity.name)!);
  const versioned = new Map(
    model.entities
      .filter((e) => e.versions)
      .map((owner) => {
        const child = model.entities.find((e) => e.name === owner.versions!.entity)!;
        const pair = (e: EntityDef) => ({ entity: e, actions: actionsOf.get(e.name)!, store: stores.get(e.name)! });
        return [owner.name, new VersionedRecords(pair(owner), pair(child), pool)] as const;
      }),
  );
  // Parts that mirror a parent's field keep the two in step (records/part-mirror.ts).
  for (const entity of model.entities) {
    for (const part of entity.parts.filter((p) => p.mirror)) {
      const versionedPart = versioned.get(part.entity)!;
      const { stored, activated } = partMirror({
        parent: { entity, actions: actionsOf.get(entity.name)!, store: stores.get(entity.name)! },
        part,
        owner: { actions: actionsOf.get(part.entity)!, store: stores.get(part.entity)! },
        versioned: versionedPart,
      });
      actionsOf.get(entity.name)!.addStoredRule(stored);
      versionedPart.onActivated(activated);
    }
  }
  const shapesByVersion = new Map(
    model.apiVersions.map((version) => [
      version.name,
      new Map(model.entities.map((entity) => [entity.name, new ApiShape(entity, version)])),
    ]),
  );
  return {
    model,
    pool,
    media,
    stores,
    actionsOf,
    classify,
    shapeOf: (version, entity) => shapesByVersion.get(version)!.get(entity)!,
    audit,
    versioned,
    ops,
    openapi,
    feeds,
    ...(expiry ? { expiry } : {}),
  };
}
