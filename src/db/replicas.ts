// Read replicas (DATABASE_REPLICA_URLS). Every REPLICA_CHECK_INTERVAL_MS the primary's WAL position
// is sampled and each replica's replay position read. A replica's lag is how long ago the primary
// had written the first WAL the replica has not replayed yet (0 when it has replayed everything
// sampled): an idle primary does not make a replica look behind. A replica that is down, not in
// recovery, or lags past REPLICA_MAX_LAG_MS leaves the rotation, and returns at the first check
// that finds it healthy. A read that must see a write (its consistency token, a WAL position) goes
// only to a replica known to have replayed that position, else to the primary.
import type { Logger } from 'pino';
import { sql } from 'slonik';
import type { DatabasePool } from './pool.ts';

/** `16/B374D848` as a number of bytes. */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(text.trim());
  if (!match) throw new RangeError(`not a WAL position: ${text}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

export const formatLsn = (lsn: bigint): string =>
  `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;

export type ReplicaState = 'in_rotation' | 'lagging' | 'down' | 'not_a_replica';

export interface ReplicaStatus {
  /** host:port/database, without credentials. */
  readonly name: string;
  readonly state: ReplicaState;
  readonly lag_ms: number | null;
  readonly replay_lsn: string | null;
  /** Why it is out of rotation, when it is. */
  readonly reason?: string;
}

/** The address a replica is shown by: never its password. */
export function replicaName(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'replica';
  }
}

interface Replica {
  readonly name: string;
  readonly pool: DatabasePool;
  state: ReplicaState;
  replay?: bigint;
  lagMs?: number;
  reason?: string;
}

export interface ReplicaSetOptions {
  readonly maxLagMs: number;
  readonly checkIntervalMs: number;
  readonly logger: Logger;
}

export class ReplicaSet {
  private readonly replicas: Replica[];
  /** The primary's WAL position at each recent check, oldest first. */
  private readonly samples: { at: number; lsn: bigint }[] = [];
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private next = 0;

  constructor(
    private readonly primary: DatabasePool,
    replicas: readonly { name: string; pool: DatabasePool }[],
    private readonly options: ReplicaSetOptions,
  ) {
    this.replicas = replicas.map((r) => ({ ...r, state: 'down', reason: 'not checked yet' }));
  }

  get size(): number {
    return this.replicas.length;
  }

  /** Checks now, then every interval; the first check is awaited so a start serves from replicas at once. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.options.checkIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
    await Promise.all(this.replicas.map((r) => r.pool.end()));
  }

  /** A replica in rotation that has replayed `afterLsn`, round robin; undefined: read the primary. */
  pick(afterLsn?: bigint): { name: string; pool: DatabasePool } | undefined {
    const count = this.replicas.length;
    for (let i = 0; i < count; i++) {
      const replica = this.replicas[(this.next + i) % count]!;
      if (replica.state !== 'in_rotation') continue;
      if (afterLsn !== undefined && (replica.replay === undefined || replica.replay < afterLsn)) continue;
      this.next = (this.next + i + 1) % count;
      return replica;
    }
    return undefined;
  }

  /** A replica failed a read: out of rotation until the next check finds it healthy. */
  failed(name: string, error: unknown): void {
    const replica = this.replicas.find((r) => r.name === name);
    if (replica?.state !== 'in_rotation') return;
    replica.state = 'down';
    replica.reason = error instanceof Error ? error.message : String(error);
    this.options.logger.warn(
      { replica: name, state: replica.state, reason: replica.reason },
      'read replica failed a read: out of rotation',
    );
  }

  status(): ReplicaStatus[] {
    return this.replicas.map((r) => ({
      name: r.name,
      state: r.state,
      lag_ms: r.lagMs ?? null,
      replay_lsn: r.replay === undefined ? null : formatLsn(r.replay),
      ...(r.state === 'in_rotation' ? {} : { reason: r.reason ?? r.state }),
    }));
  }

  private check(): Promise<void> {
    this.checking ??= this.checkAll().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkAll(): Promise<void> {
    const now = Date.now();
    try {
      const lsn = parseLsn(await this.primary.oneFirst(sql.unsafe`SELECT pg_current_wal_lsn()::text`));
      this.samples.push({ at: now, lsn });
    } catch {
      // The primary is away: lag cannot grow meanwhile, and reads answer 503 anyway.
    }
    // Samples older than the bound say nothing more: a replica behind all of them is lagging.
    while (this.samples.length > 1 && now - this.samples[1]!.at > this.options.maxLagMs) this.samples.shift();
    await Promise.all(this.replicas.map((r) => this.checkReplica(r, now)));
  }

  private async checkReplica(replica: Replica, now: number): Promise<void> {
    const before = replica.state;
    try {
      const row = await withTimeout(
        replica.pool.one(
          sql.unsafe`SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replay`,
        ) as Promise<{ standby: boolean; replay: string | null }>,
        Math.max(this.options.checkIntervalMs, 1000),
      );
      if (!row.standby || row.replay === null) {
        replica.state = 'not_a_replica';
        replica.reason = 'it is not in recovery: a promoted or primary server would not see the primary’s writes';
        replica.replay = undefined;
        replica.lagMs = undefined;
      } else {
        replica.replay = parseLsn(row.replay);
        const behind = this.samples.find((s) => s.lsn > replica.replay!);
        replica.lagMs = behind ? now - behind.at : 0;
        const lagging = replica.lagMs > this.options.maxLagMs;
        replica.state = lagging ? 'lagging' : 'in_rotation';
        replica.reason = lagging ? `more than REPLICA_MAX_LAG_MS (${this.options.maxLagMs} ms) behind` : undefined;
      }
    } catch (error) {
      replica.state = 'down';
      replica.reason = error instanceof Error ? error.message : String(error);
      replica.lagMs = undefined;
    }
    if (replica.state !== before)
      this.options.logger[replica.state === 'in_rotation' ? 'info' : 'warn'](
        { replica: replica.name, state: replica.state, lag_ms: replica.lagMs, reason: replica.reason },
        replica.state === 'in_rotation' ? 'read replica in rotation' : 'read replica out of rotation',
      );
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
