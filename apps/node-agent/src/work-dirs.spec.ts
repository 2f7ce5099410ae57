import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import pino from 'pino';

import { KEEP_UNTIL_FILE } from './task-runner';
import { defaultWorkDir, sweepKeptWorkDirs } from './work-dirs';

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

describe('defaultWorkDir', () => {
  it('is <state dir>/work outside any checkout', async () => {
    const state = join(await mkdtemp(join(tmpdir(), 'waggle-state-')), 'agent');
    assert.equal(await defaultWorkDir(state, '/home/ana/.cache'), join(state, 'work'));
  });

  it('leaves a git checkout (npm start keeps its state in ./.waggle of the clone)', async () => {
    const clone = await mkdtemp(join(tmpdir(), 'waggle-clone-'));
    execFileSync('git', ['init', '-q', clone]);
    const state = join(clone, '.waggle', 'agent');
    const work = await defaultWorkDir(state, '/home/ana/.cache');
    assert.ok(!work.startsWith(clone), work);
    assert.match(work, /^\/home\/ana\/\.cache\/waggle\/work\/[0-9a-f]{12}$/);
    assert.equal(await defaultWorkDir(state, '/home/ana/.cache'), work, 'the same place every start');
  });

  it('leaves a folder with a package.json too', async () => {
    const project = await mkdtemp(join(tmpdir(), 'waggle-project-'));
    await writeFile(join(project, 'package.json'), '{}');
    assert.ok(!(await defaultWorkDir(join(project, 'state'), '/home/ana/.cache')).startsWith(project));
  });
});
