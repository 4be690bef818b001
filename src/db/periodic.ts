// A maintenance task (a purge) run at start and then at an interval while the service runs.

/** Runs `task` now and every `everyMs` (the timer does not keep the process alive); the returned function stops it. */
export async function runNowAndEvery(everyMs: number, task: () => Promise<void>): Promise<() => void> {
  await task();
  const timer = setInterval(() => void task(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
