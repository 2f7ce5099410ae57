import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { crashOf } from './task-runner';

describe('crashOf', () => {
  it("finds the last V8 stack trace in a task's output", () => {
    const out =
      'starting\nTypeError: first\n    at a (/x.js:1:1)\nretrying\n/app/x.js:3\n  throw e\nRangeError [ERR_X]: too far\n    at far (/app/x.js:3:9)\n    at main (/app/x.js:9:1)\nNode.js v24\n';
    const crash = crashOf(out);
    assert.equal(crash?.type, 'RangeError');
    assert.equal(crash?.message, 'too far');
    assert.match(crash.stack, /at far[\s\S]*at main/);
  });

  it('finds a Python traceback, and nothing in output without one', () => {
    const crash = crashOf('Traceback (most recent call last):\n  File "/a.py", line 2, in <module>\n    run()\nKeyError: \'id\'\n');
    assert.equal(crash?.type, 'KeyError');
    assert.equal(crashOf('exit status 1\nno such file\n'), undefined);
  });
});
