import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import pino from 'pino';

import { KEEP_UNTIL_FILE } from './task-runner';
import { sweepKeptWorkDirs } from './work-dirs';

describe('sweepKeptWorkDirs', () => {
  it('removes kept working trees whose time is up, and nothing else', async () => {
    const work = await mkdtemp(join(tmpdir(), 'waggle-sweep-'));
    for (const [name, until] of [
      ['expired', 1_000],
      ['kept', 5_000],
      ['running', undefined],
    ] as const) {
      await mkdir(join(work, name));
      if (until !== undefined) {
        await writeFile(join(work, name, KEEP_UNTIL_FILE), String(until));
      }
    }
    const removed = await sweepKeptWorkDirs(work, pino({ level: 'silent' }), 2_000);
    assert.deepEqual(removed, [join(work, 'expired')]);
    assert.deepEqual((await readdir(work)).sort(), ['kept', 'running']);
  });
});
