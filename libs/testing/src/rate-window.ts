import { eventually } from './eventually';

/**
 * Waits until the gateway's current one-minute rate-limit window (aligned to the clock, as
 * every replica computes it) has at least `seconds` left, so a burst a test counts cannot
 * straddle two windows. Returns at once most of the time.
 */
export async function rateWindowWithRoom(seconds = 15): Promise<void> {
  const left = () => 60 - ((Date.now() / 1000) % 60);
  await eventually(
    () => {
      if (left() < seconds) {
        throw new Error(`${left().toFixed(1)} s left in this minute`);
      }
    },
    { timeoutMs: (seconds + 5) * 1000, intervalMs: 100, what: `a rate-limit window with ${seconds} s left` },
  );
}
