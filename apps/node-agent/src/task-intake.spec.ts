import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Pull } from './task-intake';
import { TaskIntake } from './task-intake';

/** A fake consumer: pulls wait for messages the test publishes, the oldest pull served first (as JetStream does). */
class FakeConsumer {
  readonly asked: number[] = [];
  private backlog: number[] = [];
  private readonly open: { left: number; push: (m: number) => void; end: () => void }[] = [];
  failNext = false;

  pull(count: number): Promise<Pull<number>> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('consumer not found'));
    }
    this.asked.push(count);
    const queue: number[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const entry = {
      left: count,
      push: (m: number) => {
        queue.push(m);
        wake?.();
      },
      end: () => {
        ended = true;
        wake?.();
      },
    };
    this.open.push(entry);
    this.serve();
    const iterator = async function* () {
      for (;;) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (ended) {
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    };
    return Promise.resolve({
      [Symbol.asyncIterator]: iterator,
      close: () => {
        entry.end();
        return Promise.resolve();
      },
    });
  }

  publish(...messages: number[]): void {
    this.backlog.push(...messages);
    this.serve();
  }

  /** Messages asked for and not delivered yet. */
  get outstanding(): number {
    return this.open.reduce((sum, p) => sum + p.left, 0);
  }

  private serve(): void {
    while (this.backlog.length && this.open.length) {
      const pull = this.open[0]!;
      pull.push(this.backlog.shift()!);
      if (--pull.left === 0) {
        this.open.shift();
        pull.end();
      }
    }
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) {
    await turn();
  }
  assert.ok(check(), what);
}

describe('TaskIntake', () => {
  it('asks for exactly the free slots: what runs plus what is asked for never exceeds them', async () => {
    const consumer = new FakeConsumer();
    const running = new Map<number, () => void>();
    let most = 0;
    const stop = new AbortController();
    const intake = new TaskIntake<number>({
      slots: 3,
      pull: (count) => consumer.pull(count),
      onPullError: () => undefined,
      retryMs: 10,
      handle: (m) =>
        new Promise<void>((resolve) => {
          running.set(m, resolve);
          most = Math.max(most, running.size);
        }),
      onHandleError: () => undefined,
      signal: stop.signal,
    });
    intake.start();
    await until(() => consumer.outstanding === 3, 'three asked for at start');
    consumer.publish(1, 2, 3, 4, 5, 6, 7);
    await until(() => running.size === 3, 'three running');
    assert.equal(consumer.outstanding, 0, 'nothing more asked for while every slot is busy');
    assert.deepEqual(consumer.asked, [3]);
    // Two slots free in one turn: one pull for both.
    running.get(1)!();
    running.get(2)!();
    running.delete(1);
    running.delete(2);
    await until(() => running.size === 3, 'the freed slots filled');
    assert.deepEqual(consumer.asked, [3, 2]);
    assert.equal(most, 3, 'never more than the slots at once');
    for (const [m, done] of running) {
      done();
      running.delete(m);
    }
    await until(() => running.size === 2 && consumer.outstanding === 1, 'the last two run, one more asked for');
    assert.equal(intake.busy + intake.requested, 3);
    stop.abort();
    intake.stop();
  });

  it('pauses after a failed pull, then asks again', async () => {
    const consumer = new FakeConsumer();
    consumer.failNext = true;
    const errors: unknown[] = [];
    const stop = new AbortController();
    const handled: number[] = [];
    const intake = new TaskIntake<number>({
      slots: 1,
      pull: (count) => consumer.pull(count),
      onPullError: (error) => errors.push(error),
      retryMs: 20,
      handle: (m) => {
        handled.push(m);
        return Promise.resolve();
      },
      onHandleError: () => undefined,
      signal: stop.signal,
    });
    intake.start();
    consumer.publish(9);
    const deadline = Date.now() + 5_000;
    while (!handled.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(errors.length, 1);
    assert.deepEqual(handled, [9]);
    stop.abort();
    intake.stop();
  });
});
