// slonik 47's driver loses a connection whose query was running when the server went away: its
// destroy() races the query's rejected promise, throws, and never emits `destroy`, so the pool
// keeps counting it as in use. After a crash the pool is that many connections short for good,
// and once all are lost every request waits in slonik's queue forever. This wraps the pg driver
// so that a client whose destroy failed is reported gone all the same.
import { EventEmitter } from 'node:events';
import { createPgDriverFactory } from '@slonik/pg-driver';
import type { DriverClient, DriverFactory } from 'slonik';

export function createPgDriverWithoutLeaks(): DriverFactory {
  const pgDriver = createPgDriverFactory();
  return async (configuration) => {
    const driver = await pgDriver(configuration);
    return { createClient: async () => reportDestroyed(await driver.createClient()) };
  };
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
