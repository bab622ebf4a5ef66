/**
 * Signals combined for one request, and let go of once it is done.
 */
import { setMaxListeners } from 'node:events';

export interface LinkedSignal {
  /** aborts (with the same reason) as soon as one of the sources does; undefined without sources */
  signal: AbortSignal | undefined;
  /** detaches it from its sources: call it once the request it served is done (idempotent) */
  dispose(): void;
}

/** sources whose listener limit is already lifted */
const unbounded = new WeakSet<AbortSignal>();

/**
 * A signal that aborts when any of `signals` does, like `AbortSignal.any` — which cannot be
 * used here: the signal it makes stays registered with each source for as long as the source
 * lives once anything listens to it (undici does), in Node 20 and later ones
 * (nodejs/node#55351, #64476). The sources here are long-lived (a job's stop signal, the
 * client's), each a source of every request's signal: a run held one such entry per request
 * sent, some 28,000 after 30,000 rows. This one is a listener on each source, removed by
 * `dispose` (or when it fires). Sources left `undefined` are skipped; a single source is
 * handed back as it is.
 */
export function linkSignals(...signals: (AbortSignal | undefined)[]): LinkedSignal {
  const sources = signals.filter((s): s is AbortSignal => s !== undefined);
  if (sources.length <= 1) return { signal: sources[0], dispose: () => undefined };
  const aborted = sources.find((s) => s.aborted);
  if (aborted) return { signal: AbortSignal.abort(aborted.reason), dispose: () => undefined };
  const controller = new AbortController();
  const dispose = () => {
    for (const s of sources) s.removeEventListener('abort', onAbort);
  };
  const onAbort = (event: Event) => {
    dispose();
    controller.abort((event.target as AbortSignal).reason);
  };
  // one listener per request in flight or queued, which may be many more than Node's 10; set
  // once per source (it showed in a profile, called for every request)
  for (const s of sources) {
    if (unbounded.has(s)) continue;
    unbounded.add(s);
    setMaxListeners(0, s);
  }
  for (const s of sources) s.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, dispose };
}
