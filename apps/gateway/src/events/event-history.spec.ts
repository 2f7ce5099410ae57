import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { MachineMetrics, WaggleEvent } from '@waggle/contracts';

import { EventHistory, MetricHistory } from './event-history';

const event = (n: number, machineId = 'm1'): WaggleEvent => ({
  v: 1,
  id: `e${n}`,
  type: 'machine.online',
  at: new Date(1_700_000_000_000 + n * 1000).toISOString(),
  data: { machineId, name: machineId },
});

const metrics = (cpuPercent: number): MachineMetrics => ({
  cpuLoad: 0.5,
  cpuPercent,
  memoryUsedMb: 1024,
  memoryTotalMb: 4096,
  diskFreeMb: 1000,
  diskTotalMb: 4000,
  uptimeSeconds: 10,
});

describe('EventHistory', () => {
  it('keeps the newest events, newest first, in pages that end where the ring ends', () => {
    const h = new EventHistory(5);
    for (let n = 1; n <= 7; n++) {
      h.add(event(n));
    }
    h.add(event(7)); // a redelivery is kept once
    const first = h.page(2, undefined, () => true);
    assert.deepEqual(
      first.items.map((e) => e.id),
      ['e7', 'e6'],
    );
    const second = h.page(2, first.nextCursor, () => true);
    assert.deepEqual(
      second.items.map((e) => e.id),
      ['e5', 'e4'],
    );
    const last = h.page(2, second.nextCursor, () => true);
    assert.deepEqual(
      last.items.map((e) => e.id),
      ['e3'],
    );
    assert.equal(last.nextCursor, undefined);
    assert.deepEqual(h.page(2, 'e1', () => true).items, [], 'an id that left the ring has nothing older');
  });

  it('shows a caller only what it may see, and says when nothing more is visible', () => {
    const h = new EventHistory(10);
    h.add(event(1, 'a'));
    h.add(event(2, 'b'));
    h.add(event(3, 'a'));
    const page = h.page(1, undefined, (e) => (e.data as { machineId: string }).machineId === 'a');
    assert.deepEqual(
      page.items.map((e) => e.id),
      ['e3'],
    );
    const next = h.page(1, page.nextCursor, (e) => (e.data as { machineId: string }).machineId === 'a');
    assert.deepEqual(
      next.items.map((e) => e.id),
      ['e1'],
    );
    assert.equal(next.nextCursor, undefined);
  });
});

describe('MetricHistory', () => {
  it('keeps one sample per spacing, for the last hour only', () => {
    const h = new MetricHistory(10_000, 3_600_000, 10);
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    h.add('m1', metrics(10), t0);
    h.add('m1', metrics(90), t0 + 5_000); // within the spacing: dropped
    h.add('m1', metrics(20), t0 + 10_000);
    assert.deepEqual(
      h.of('m1', t0 + 10_000).map((s) => s.cpuPercent),
      [10, 20],
    );
    assert.equal(h.of('m1', t0 + 10_000)[0]?.diskUsedMb, 3000);
    h.add('m1', metrics(30), t0 + 3_605_000);
    assert.deepEqual(
      h.of('m1', t0 + 3_605_000).map((s) => s.cpuPercent),
      [20, 30],
      'samples older than an hour are gone',
    );
  });

  it('drops the machine heard from least recently past its limit', () => {
    const h = new MetricHistory(1, 3_600_000, 2);
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    h.add('a', metrics(1), t0);
    h.add('b', metrics(2), t0 + 1);
    h.add('a', metrics(3), t0 + 2);
    h.add('c', metrics(4), t0 + 3);
    assert.equal(h.of('b', t0 + 3).length, 0);
    assert.equal(h.of('a', t0 + 3).length, 2);
    assert.equal(h.of('c', t0 + 3).length, 1);
  });
});
