/**
 * The gate the server's word closes (SPEC §6): a 429's Retry-After, or `Remaining: 0` with a
 * reset time, holds every request until then; the held ones then leave one spacing apart, so a
 * pause never ends in a burst.
 */
import type { Clock } from '../clock.js';

export class Gate {
  /** epoch ms until which every request waits */
  private closedUntil = 0;
  /** when the next request let out after a hold may leave (epoch ms) */
  private nextSlot = 0;
  /** ms the gate has been closed in all (for LimiterStats.backOffMs) */
  closedMs = 0;

  constructor(private readonly clock: Clock) {}

  /** When the gate opens again (epoch ms), if it is closed now; else null. */
  openAt(): number | null {
    return this.closedUntil > this.clock.now() ? this.closedUntil : null;
  }

  /** Closes the gate for `ms` from now (a later end than the current one wins). */
  close(ms: number): void {
    const now = this.clock.now();
    const until = now + ms;
    if (until <= this.closedUntil) return;
    this.closedMs += until - Math.max(this.closedUntil, now);
    this.closedUntil = until;
  }

  /**
   * Waits while the gate is closed, then leaves `spacingMs` after the request let out before it.
   * Requests that come while held ones are still being let out queue behind them instead of
   * leaving beside them (SPEC §6 jitter: no bunch after a hold). Rejects when `signal` aborts.
   */
  async pass(spacingMs: number, signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    if (now >= this.closedUntil && now >= this.nextSlot) return;
    const slot = Math.max(this.closedUntil, this.nextSlot);
    this.nextSlot = slot + spacingMs;
    await this.clock.sleep(slot - now, signal);
  }
}
