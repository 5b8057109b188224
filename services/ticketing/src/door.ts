import { systemClock, type Clock } from '@quickdeal/core';

/**
 * Overload protection for ticket issue: at most `limit` ticket requests in progress at once. A
 * shopper who finds the door full is told to come back later (429 with Retry-After) in
 * microseconds, instead of waiting in a queue until their browser gives up. The wait it asks for
 * grows with how many were turned away against how many tickets went out over the last two
 * seconds, with jitter, so that the returning crowd arrives spread out at about the pace tickets
 * are issued, not all at once.
 */
export class Door {
  private inProgress = 0;
  private second = 0;
  private issued = { previous: 0, current: 0 };
  private turnedAway = { previous: 0, current: 0 };

  constructor(
    /** 0 lets everyone in. */
    private readonly limit: number,
    private readonly options: { clock?: Clock; random?: () => number; maxRetryAfterSeconds?: number } = {},
  ) {}

  /** Takes a place, or returns the seconds to come back after. */
  enter(): { entered: true } | { entered: false; retryAfterSeconds: number } {
    this.rotate();
    if (this.limit > 0 && this.inProgress >= this.limit) {
      this.turnedAway.current++;
      return { entered: false, retryAfterSeconds: this.retryAfterSeconds() };
    }
    this.inProgress++;
    return { entered: true };
  }

  /** Gives the place back; `issued` when a ticket went out through it. */
  leave(issued: boolean): void {
    this.inProgress--;
    if (issued) {
      this.rotate();
      this.issued.current++;
    }
  }

  private retryAfterSeconds(): number {
    const turnedAway = this.turnedAway.previous + this.turnedAway.current;
    const issued = Math.max(1, this.issued.previous + this.issued.current);
    const base = Math.max(1, turnedAway / issued);
    const jittered = base * (1 + (this.options.random ?? Math.random)());
    return Math.min(this.options.maxRetryAfterSeconds ?? 60, Math.ceil(jittered));
  }

  /** Keeps two one-second counts: the last whole second and the current one. */
  private rotate(): void {
    const second = Math.floor((this.options.clock ?? systemClock).now() / 1000);
    if (second === this.second) return;
    const justBefore = second - this.second === 1;
    this.issued = { previous: justBefore ? this.issued.current : 0, current: 0 };
    this.turnedAway = { previous: justBefore ? this.turnedAway.current : 0, current: 0 };
    this.second = second;
  }
}
