// `reelmeta serve` as its own process, as `npm start` runs it: for tests that need a real restart,
// the embedded database, or a memory limit on the server alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { PROJECT_ROOT } from '../../src/config.ts';
import { testS3Env } from './s3.ts';

/** Starts the server with these environment variables (and node flags), resolving once it listens. */
export async function spawnServer(
  env: Record<string, string>,
  nodeFlags: readonly string[] = [],
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: PROJECT_ROOT,
    // The run's S3 server unless the test asks for the embedded one (S3_ENDPOINT: '').
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'info', AUTH_MODE: 'off', ...testS3Env(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    // A server that never listens is killed: the caller has no handle to stop it by.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('reelmeta is listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return child;
}

/** SIGTERM, then the exit code. */
export async function stopServer(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}
