// The user pool's signing keys (its JWKS), fetched over HTTP and cached. jose's
// createRemoteJWKSet waits for a refresh once its cache is old and fails the token when that
// refresh fails, so an unreachable JWKS endpoint would fail every request; here the last keys keep
// verifying tokens for a bounded time (AUTH_JWKS_STALE_SECONDS) while a refresh is tried in the
// background, and with no keys at all a fetch waits at most AUTH_JWKS_TIMEOUT_MS and a failed one
// is not tried again for a moment, so callers get a prompt 503 instead of waiting in turn.
import {
  createLocalJWKSet,
  errors,
  type CryptoKey,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
} from 'jose';

/** The keys cannot be had: nobody can be verified right now. */
export class JwksUnavailable extends Error {
  override readonly name = 'JwksUnavailable';
}

export interface JwksOptions {
  readonly url: string;
  /** A fetch that has not answered in this time has failed. */
  readonly timeoutMs: number;
  /** Keys older than this are fetched again (in the background while they can still be used). */
  readonly maxAgeMs: number;
  /** How long past maxAgeMs the last keys are still used when they cannot be fetched again. */
  readonly staleMs: number;
  /** A token naming a key id not in the set fetches the keys again, at most this often. */
  readonly cooldownMs: number;
  /** After a failed fetch, the next one waits this long (requests meanwhile use old keys or get a 503). */
  readonly retryMs?: number;
  /** For tests: the clock. */
  readonly now?: () => number;
}

type KeySet = ReturnType<typeof createLocalJWKSet>;

export type RemoteKeys = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

export function remoteKeys(options: JwksOptions): RemoteKeys {
  const now = options.now ?? Date.now;
  const retryMs = options.retryMs ?? Math.min(5_000, options.cooldownMs || 5_000);
  let keys: KeySet | undefined;
  let fetchedAt = -Infinity;
  let failedAt = -Infinity;
  let lastFailure = '';
  let pending: Promise<void> | undefined;

  const fetchKeys = (): Promise<void> => {
    pending ??= (async () => {
      try {
        const response = await fetch(options.url, {
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
          headers: { accept: 'application/json' },
        });
        if (response.status !== 200) throw new Error(`the JWKS endpoint answered ${response.status}`);
        keys = createLocalJWKSet((await response.json()) as JSONWebKeySet);
        fetchedAt = now();
      } catch (error) {
        failedAt = now();
        const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
        lastFailure = timedOut
          ? `no answer within ${options.timeoutMs} ms`
          : error instanceof Error
            ? error.message
            : String(error);
        throw new JwksUnavailable(`the user pool's keys could not be fetched from ${options.url}: ${lastFailure}`);
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  };

  const mayTry = () => now() - failedAt >= retryMs;
  const usable = () => keys !== undefined && now() - fetchedAt < options.maxAgeMs + options.staleMs;

  /** Keys to verify with: the cached ones while usable (refreshed in the background when old), else fetched now. */
  const current = async (): Promise<KeySet> => {
    const old = now() - fetchedAt >= options.maxAgeMs;
    if (keys && usable()) {
      if (old && mayTry() && !pending) fetchKeys().catch(() => undefined);
      return keys;
    }
    if (!mayTry())
      throw new JwksUnavailable(
        `the user pool's keys could not be fetched a moment ago (${lastFailure}); try again shortly`,
      );
    await fetchKeys();
    return keys!;
  };

  return async (header, token) => {
    const set = await current();
    try {
      return await set(header, token);
    } catch (error) {
      // A key id not in the set: the pool may have rotated its keys; fetch them again (rarely).
      if (!(error instanceof errors.JWKSNoMatchingKey) || now() - fetchedAt < options.cooldownMs) throw error;
      if (!mayTry())
        throw new JwksUnavailable(
          `the token names a key the cached set lacks, and the keys could not be fetched a moment ago (${lastFailure})`,
        );
      await fetchKeys();
      return keys!(header, token);
    }
  };
}
