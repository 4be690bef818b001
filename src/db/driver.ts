// Two things slonik 47's pg driver does not do. It loses a connection whose query was running when the server went away: its
// destroy() races the query's rejected promise, throws, and never emits `destroy`, so the pool
// keeps counting it as in use. After a crash the pool is that many connections short for good,
// and once all are lost every request waits in slonik's queue forever. This wraps the pg driver
// so that a client whose destroy failed is reported gone all the same. And it sends every query
// unnamed, planned from scratch each time: this one names the statements marked PREPARED (prepared.ts).
import { EventEmitter } from 'node:events';
import { createPgDriverFactory } from '@slonik/pg-driver';
import type { DriverClient, DriverFactory } from 'slonik';
import {
  ConnectionStatements,
  isPooledStatementLost,
  isStalePreparedStatement,
  StatementNames,
  type Statement,
} from './prepared.ts';

export function createPgDriverWithoutLeaks(options: { preparedStatements?: boolean } = {}): DriverFactory {
  const pgDriver = createPgDriverFactory();
  const names = options.preparedStatements === false ? undefined : new StatementNames();
  return async (configuration) => {
    const driver = await pgDriver(configuration);
    return {
      createClient: async () => {
        const client = reportDestroyed(await driver.createClient());
        return names ? namingStatements(client, names) : client;
      },
    };
  };
}

/** The client, sending repeated queries as named prepared statements. */
function namingStatements(client: DriverClient, names: StatementNames): DriverClient {
  const statements = new ConnectionStatements(names);
  // The driver hands `sql` to pg's client.query as it is, and pg takes a { name, text } config there.
  const send = (statement: Statement, values: Parameters<DriverClient['query']>[1]) =>
    client.query(statement as unknown as string, values);
  const query: DriverClient['query'] = async (sql, values) => {
    const statement = statements.statement(sql, values ?? []);
    try {
      return await send(statement, values);
    } catch (error) {
      if (typeof statement === 'string') throw error;
      if (isPooledStatementLost(error)) names.stopNaming();
      else if (isStalePreparedStatement(error)) names.refuse(statement.name);
      else throw error;
      // Inside a transaction the error has aborted it: transact (work.ts) runs it again, unnamed.
      if (statements.inTransaction) throw error;
      return send(sql, values);
    }
  };
  return { ...client, query };
}

type Listener = (...args: unknown[]) => void;
/** The client's emitter methods without the per-event typing, to forward any event to them. */
type Untyped = { on(event: string, listener: Listener): unknown; off(event: string, listener: Listener): unknown };

function reportDestroyed(client: DriverClient): DriverClient {
  const destroyEvents = new EventEmitter();
  let gone = false;
  const markGone = () => {
    if (gone) return;
    gone = true;
    destroyEvents.emit('destroy');
  };
  client.on('destroy', markGone);
  const destroy = async () => {
    try {
      await client.destroy();
    } catch {
      // The connection is dead either way; the error itself already reached the query that met it.
      markGone();
    }
  };
  // The driver destroys a client by itself when its connection fails; learn how that ended.
  client.on('error', () => setImmediate(() => void destroy()));
  const events = client as unknown as Untyped;
  const on = (event: string, listener: Listener) => {
    if (event === 'destroy') destroyEvents.on(event, listener);
    else events.on(event, listener);
    return wrapped;
  };
  const off = (event: string, listener: Listener) => {
    if (event === 'destroy') destroyEvents.off(event, listener);
    else events.off(event, listener);
    return wrapped;
  };
  const wrapped: DriverClient = {
    ...client,
    destroy,
    state: () => (gone ? 'DESTROYED' : client.state()),
    on: on as unknown as DriverClient['on'],
    off: off as unknown as DriverClient['off'],
    removeListener: off as unknown as DriverClient['removeListener'],
  };
  return wrapped;
}
