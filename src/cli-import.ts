// `reelmeta import FILE`: sends an NDJSON or CSV file to a running service's import route
// (POST /api/v1/{plural}/import) as a stream, shows a progress bar from the per-line results it
// streams back, writes them to --report when asked, and prints the summary. The HTTP route is
// the one implementation, so the CLI gets the same checks, permissions and audit trail.
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Presets, SingleBar } from 'cli-progress';

export interface ImportCommandOptions {
  readonly file: string;
  readonly plural: string;
  readonly format: 'ndjson' | 'csv';
  readonly dryRun: boolean;
  readonly url: string;
  readonly token?: string;
  readonly report?: string;
}

/** Lines in the file (records, or rows plus the header), for the bar's total; read as a stream. */
async function countLines(file: string): Promise<number> {
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (const byte of chunk) if (byte === 10) lines += 1;
    last = chunk[chunk.length - 1] ?? last;
  }
  return last === 10 ? lines : lines + 1;
}

/** Runs the import; the exit code is 0 when every line was imported (or would be, in a dry run). */
export async function importCommand(options: ImportCommandOptions): Promise<number> {
  await stat(options.file);
  const total = (await countLines(options.file)) - (options.format === 'csv' ? 1 : 0);
  const query = new URLSearchParams({ format: options.format, ...(options.dryRun ? { dry_run: 'true' } : {}) });
  const response = await fetch(`${options.url.replace(/\/$/, '')}/api/v1/${options.plural}/import?${query}`, {
    method: 'POST',
    headers: {
      'content-type': options.format === 'csv' ? 'text/csv' : 'application/x-ndjson',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: Readable.toWeb(createReadStream(options.file)) as ReadableStream<Uint8Array>,
    duplex: 'half',
  } as RequestInit);
  if (!response.ok || !response.body) {
    console.error(`import refused: ${response.status} ${await response.text()}`);
    return 1;
  }
  const bar = new SingleBar(
    { format: `${options.plural} {bar} {value}/{total} lines  {eta_buffer}`, etaBuffer: 50, hideCursor: true },
    Presets.shades_classic,
  );
  const report = options.report ? createWriteStream(options.report) : undefined;
  bar.start(Math.max(total, 0), 0);
  let done = 0;
  let summary: Record<string, unknown> | undefined;
  let stopped: unknown;
  const failures: string[] = [];
  let buffered = '';
  const decoder = new TextDecoder();
  const handle = (line: string) => {
    if (line.trim() === '') return;
    report?.write(`${line}\n`);
    const result = JSON.parse(line) as {
      summary?: Record<string, unknown>;
      errors?: unknown;
      status?: string;
      line?: number;
    };
    if (result.summary) summary = result.summary;
    else if (result.status === undefined) stopped = result.errors;
    else {
      done += 1;
      bar.update(done);
      if (result.status === 'failed' && failures.length < 20) failures.push(line);
    }
  };
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    lines.forEach(handle);
  }
  handle(buffered + decoder.decode());
  bar.stop();
  await new Promise<void>((resolve) => (report ? report.end(resolve) : resolve()));
  for (const failure of failures) console.error(failure);
  if (stopped !== undefined || !summary) {
    console.error(`the import stopped: ${JSON.stringify(stopped ?? 'no summary')}`);
    return 1;
  }
  console.log(JSON.stringify(summary));
  return summary.failed === 0 ? 0 : 1;
}
