// Keeps the embedded PostgreSQL running: when its postmaster dies (killed, crashed, out of memory)
// it is started again on the same port, so the pool's address stays right, after a growing pause
// (its orphaned backends must exit first). Requests meanwhile answer 503 DATABASE_UNAVAILABLE.
// After `maxRestarts` failed or short-lived starts in a row the supervisor gives up and says why.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { EmbeddedDatabase } from './embedded.ts';

/** Pauses before the 1st, 2nd, … start attempt, in ms; the last repeats. */
export const RESTART_BACKOFF_MS = [200, 500, 1000, 2000, 4000, 8000] as const;
/** A database that ran this long before dying starts a fresh count of attempts. */
const STABLE_MS = 60_000;

export interface SupervisedDatabase {
  readonly url: string;
  /** Settles, with the reason, only when the database is dead and will not be started again. */
  readonly gaveUp: Promise<Error>;
  stop(): Promise<void>;
}

export async function superviseEmbedded(
  start: () => Promise<EmbeddedDatabase>,
  maxRestarts: number,
  logger: Logger,
): Promise<SupervisedDatabase> {
  let current = await start();
  let startedAt = Date.now();
  let attempts = 0;
  let stopping = false;
  let restarting: Promise<void> | undefined;
  const stopped = new AbortController();
  let giveUp!: (reason: Error) => void;
  const gaveUp = new Promise<Error>((resolve) => (giveUp = resolve));

  const restart = async (exit: { code: number | null; signal: NodeJS.Signals | null }) => {
    if (Date.now() - startedAt >= STABLE_MS) attempts = 0;
    logger.error(
      { exit_code: exit.code, signal: exit.signal, max_restarts: maxRestarts },
      'the embedded PostgreSQL exited unexpectedly; requests answer 503 until it is back',
    );
    let lastError: unknown;
    while (attempts < maxRestarts) {
      const delay = RESTART_BACKOFF_MS[Math.min(attempts, RESTART_BACKOFF_MS.length - 1)]!;
      attempts += 1;
      logger.warn(
        { attempt: attempts, max_restarts: maxRestarts, delay_ms: delay },
        'restarting the embedded PostgreSQL',
      );
      const paused = await sleep(delay, true, { signal: stopped.signal }).catch(() => false);
      if (!paused || stopping) return;
      try {
        current = await start();
        startedAt = Date.now();
        logger.info({ attempt: attempts }, 'the embedded PostgreSQL is running again');
        watch(current);
        return;
      } catch (error) {
        lastError = error;
        logger.warn(
          { attempt: attempts, reason: error instanceof Error ? error.message : String(error) },
          'the embedded PostgreSQL did not start',
        );
      }
    }
    const reason =
      lastError instanceof Error
        ? `: ${lastError.message}`
        : maxRestarts > 0
          ? '; each time it died again within a minute'
          : '';
    giveUp(
      new Error(
        `the embedded PostgreSQL stopped and could not be started again after ${maxRestarts} attempts (EMBEDDED_DB_RESTARTS)${reason}`,
      ),
    );
  };

  const watch = (database: EmbeddedDatabase) => {
    void database.exited.then((exit) => {
      if (stopping || database !== current) return;
      restarting = restart(exit).finally(() => (restarting = undefined));
    });
  };
  watch(current);

  return {
    url: current.url,
    gaveUp,
    stop: async () => {
      stopping = true;
      stopped.abort();
      await restarting;
      await current.stop();
    },
  };
}
