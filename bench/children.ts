// The two servers run as child processes, so autocannon in this process never shares their
// event loop (or CPU time slice) with them.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.ts';
import { freePort } from '../src/db/embedded.ts';

export interface ServerChild {
  readonly name: string;
  readonly url: string;
  /** The child's process id, for its memory figures. */
  readonly pid: number | undefined;
  /** The last lines the child wrote (warnings, errors), for diagnosis. */
  readonly output: string[];
  /** How many lines it wrote in all. */
  lines(): number;
  stop(): Promise<void>;
}

const KEEP_LINES = 40;

export async function startServer(options: {
  name: string;
  script: readonly string[];
  env: Record<string, string>;
  /** Node.js options before the script, e.g. `--cpu-prof`. */
  nodeArgs?: readonly string[];
  /** False for built JavaScript (dist/), which runs without the TypeScript loader. */
  typescript?: boolean;
}): Promise<ServerChild> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), ...(options.typescript === false ? [] : ['--import', 'tsx']), ...options.script],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...options.env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  let count = 0;
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      count += 1;
      output.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
      if (output.length > KEEP_LINES) output.shift();
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${port}`;
  const server: ServerChild = { name: options.name, url, pid: child.pid, output, lines: () => count, stop };

  // Ready when GET /health answers 200; a child that exits first has failed to start.
  const deadline = Date.now() + 90_000;
  let dead = false;
  void exited.then(() => (dead = true));
  while (Date.now() < deadline) {
    if (dead)
      throw new Error(
        `${options.name} exited with code ${child.exitCode} before it was ready:\n  ${output.slice(-10).join('\n  ')}`,
      );
    const status = await fetch(`${url}/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return server;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stop();
  throw new Error(
    `${options.name} did not answer GET /health with 200 within 90 s:\n  ${output.slice(-10).join('\n  ')}`,
  );
}

/** Each server's database pool, the same for both. */
export const POOL_SIZE = 20;

/** What both servers are started with on the bench database at `url`. */
export const serverEnv = (url: string): Record<string, string> => ({
  DATABASE_URL: url,
  DB_POOL_SIZE: String(POOL_SIZE),
  LOG_LEVEL: 'warn',
  AUTH_MODE: 'off',
});

/**
 * Reelmeta as `npm start` runs it: the tsc build in dist/, built here first. Run through tsx instead,
 * esbuild's keepNames wraps every function the service creates per request (`__name`), a cost
 * production does not pay.
 */
export function buildReelmeta(log: (line: string) => void): void {
  log('build: npm run build (reelmeta runs from dist/, as npm start does) ...');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
}

/**
 * `env`: what both servers get. Rate limiting off: the load comes from one address at far more than
 * an anonymous caller's limit. Its embedded S3 server (for the media line) keeps its files beside
 * the bench database.
 */
export function startReelmeta(env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<ServerChild> {
  return startServer({
    name: 'reelmeta',
    script: ['--enable-source-maps', 'dist/src/cli.js', 'serve'],
    typescript: false,
    nodeArgs,
    env: {
      ...env,
      MIGRATE_ON_START: 'false',
      RATE_LIMIT_ENABLED: 'false',
      DATA_DIR: path.join(PROJECT_ROOT, '.data', 'bench-media'),
      JOBS_WORKER: 'false',
    },
  });
}
