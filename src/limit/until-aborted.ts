/**
 * `p`, or the signal's reason as soon as it aborts while the job still waits (`started()`
 * false). The work behind `p` is not cancelled: a queued job finds the signal aborted when its
 * turn comes and sends nothing; a job already sending is waited for, whatever the signal
 * (SPEC §5 additions, "Signals reach every wait").
 */
export function untilAborted<T>(
  p: Promise<T>,
  signal: AbortSignal | undefined,
  started: () => boolean,
): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      if (started()) return;
      p.catch(() => undefined);
      reject(signal.reason as Error);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}
