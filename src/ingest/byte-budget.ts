/**
 * A bound on the request bytes the web process holds at once. A request takes its size before its
 * body is read and gives it back once it is answered; a request that does not fit waits, in
 * arrival order, with its body unread, so that the sender is slowed by TCP instead of the process
 * growing without limit (or the request being refused: Falco's http_output does not retry). A
 * request larger than the whole budget still goes, alone.
 *
 * No closure or object per request on the fast path (`tryTake`/`give`): the first version, a
 * `reserve` returning a release function, cost the single-alert path about a tenth of its speed in
 * `npm run bench`.
 */
export interface Waiter {
  readonly bytes: number;
  readonly start: () => void;
  /** Set once its bytes are taken and `start` has been called. */
  started: boolean;
}

export class ByteBudget {
  private used = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly limit: number) {}

  /** Bytes taken by requests being read, parsed or stored. */
  get reserved(): number {
    return this.used;
  }

  /** Requests waiting for room. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Takes `bytes` if they fit now and nobody is waiting; otherwise false (then `wait`). */
  tryTake(bytes: number): boolean {
    if (this.waiting.length > 0 || !this.fits(bytes)) return false;
    this.used += bytes;
    return true;
  }

  /** Queues a request: `start` is called once its bytes are taken. */
  wait(bytes: number, start: () => void): Waiter {
    const waiter: Waiter = { bytes, start, started: false };
    this.waiting.push(waiter);
    return waiter;
  }

  /** Gives back bytes taken (by `tryTake`, or for a started waiter) and starts what now fits. */
  give(bytes: number): void {
    this.used -= bytes;
    this.startWaiting();
  }

  /** A request that gave up: its bytes back if it had started, its place in the queue otherwise. */
  leave(waiter: Waiter): void {
    if (waiter.started) return this.give(waiter.bytes);
    const i = this.waiting.indexOf(waiter);
    if (i < 0) return;
    this.waiting.splice(i, 1);
    this.startWaiting();
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.limit;
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.bytes)) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.started = true;
      next.start();
    }
  }
}
