// The service's logger keeps record values out of error logs: a database error's bound values,
// row and detail (which can hold a guest's e-mail address) are redacted.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/service.ts';

describe('the service logger', () => {
  it('redacts the values, row and detail a database error carries, at any depth of its cause', () => {
    const written: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ logLevel: 'info' }, sink);
    const cause = Object.assign(new Error('duplicate key value violates unique constraint'), {
      detail: 'Key (business_email)=(sarah@example.com) already exists.',
    });
    const error = Object.assign(new Error('query failed', { cause }), {
      values: ['sarah@example.com'],
      row: { business_phone: '+1 555 0100' },
    });
    logger.error({ err: error }, 'unhandled error');
    const line = written.join('');
    expect(line).toContain('unhandled error');
    expect(line).toContain('duplicate key value');
    expect(line).not.toContain('sarah@example.com');
    expect(line).not.toContain('555 0100');
    expect(line).toContain('[redacted]');
  });
});
