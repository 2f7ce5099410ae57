import { Injectable } from '@nestjs/common';

/** When GitHub's rate limit lets the bot's token go again; the poller starts nothing before. */
@Injectable()
export class RateLimitState {
  private until = 0;
  private readonly listeners: ((until: Date) => void)[] = [];

  /** GitHub said to wait `seconds` (Octokit waits that out before its retry). */
  limited(seconds: number): void {
    this.until = Math.max(this.until, Date.now() + seconds * 1000);
    for (const listener of this.listeners) {
      listener(new Date(this.until));
    }
  }

  onLimited(listener: (until: Date) => void): void {
    this.listeners.push(listener);
  }

  /** The end of the current wait, or null when there is none. */
  limitedUntil(): Date | null {
    return this.until > Date.now() ? new Date(this.until) : null;
  }
}
