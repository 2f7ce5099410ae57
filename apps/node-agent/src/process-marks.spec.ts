import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { childEnvironment } from '@waggle/config';

import { earlierLives, findMarked, killMarked, MARK_VARIABLE, markedBy, stopMarked } from './process-marks';

const runMark = `spec-${randomBytes(4).toString('hex')}`;

/** Starts `sh -c script` detached (its own session), carrying `mark`; returns its pid. */
function startMarked(script: string, mark: string, env: Record<string, string> = {}): number {
  const child = spawn('sh', ['-c', script], {
    env: { PATH: childEnvironment().PATH, ...env, [MARK_VARIABLE]: mark },
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child.pid!;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('process marks', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waggle-process-marks-'));
  });
  after(async () => {
    await killMarked(markedBy(runMark));
    await rm(dir, { recursive: true, force: true });
  });

  it('a mark owns itself and the marks below it, nothing else', () => {
    const owned = markedBy('m/life/task/1');
    assert.ok(owned('m/life/task/1'));
    assert.ok(owned('m/life/task/1/3'));
    assert.ok(!owned('m/life/task/12'), 'attempt 12 is not attempt 1');
    assert.ok(!owned('m/life/task'));
    const earlier = earlierLives('m', 'm/now');
    assert.ok(earlier('m/before/task/1'));
    assert.ok(!earlier('m/now/task/1'), 'not the current life');
    assert.ok(!earlier('m2/before/task/1'), 'not another machine');
  });

  it('finds the processes carrying a mark, however detached, and only those', async () => {
    const mine = `${runMark}/find`;
    const leader = startMarked('setsid sleep 30 & exec sleep 30', mine);
    const other = startMarked('exec sleep 30', `${runMark}/other`);
    let found: number[] = [];
    await until(async () => (found = await findMarked(markedBy(mine))).length === 2, 'both sleeps of the mark');
    assert.ok(found.includes(leader));
    assert.ok(!found.includes(other));
    assert.deepEqual(await findMarked(markedBy(`${runMark}/other`)), [other]);
    assert.equal((await killMarked(markedBy(runMark))).length, 3);
    assert.deepEqual(await findMarked(markedBy(runMark)), []);
  });

  it('kills a process tree that keeps forking while it is being killed', async () => {
    const mark = `${runMark}/forks`;
    // Forks detached sleeps as fast as it can (bounded, should the kill fail).
    startMarked('i=0; while [ $i -lt 500 ]; do setsid sleep 30 & i=$((i + 1)); done; wait', mark);
    await until(async () => (await findMarked(markedBy(mark))).length > 20, 'the forks to start');
    const killed = await killMarked(markedBy(mark));
    assert.ok(killed.length > 20);
    assert.deepEqual(await findMarked(markedBy(mark)), [], 'none left');
  });

  it('stops with SIGTERM first, and SIGKILLs what is still there after the grace period', async () => {
    const polite = `${runMark}/polite`;
    const file = join(dir, 'terminated');
    startMarked(`trap 'echo term > "$OUT"; exit 0' TERM; while :; do sleep 0.05; done`, polite, { OUT: file });
    await until(async () => (await findMarked(markedBy(polite))).length > 0, 'the polite shell');
    let started = Date.now();
    assert.ok((await stopMarked(markedBy(polite), 5_000)) >= 1);
    assert.ok(Date.now() - started < 4_000, 'it went on SIGTERM, without waiting for the grace period');
    assert.equal(await readFile(file, 'utf8'), 'term\n');

    const stubborn = `${runMark}/stubborn`;
    startMarked(`trap '' TERM; exec sleep 30`, stubborn);
    await until(async () => (await findMarked(markedBy(stubborn))).length > 0, 'the stubborn sleep');
    started = Date.now();
    assert.equal(await stopMarked(markedBy(stubborn), 300), 1);
    assert.ok(Date.now() - started >= 300, 'SIGKILL came after the grace period');
    assert.deepEqual(await findMarked(markedBy(stubborn)), []);
  });
});
