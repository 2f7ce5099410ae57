import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Min } from 'class-validator';

import { ConfigError, EnvBoolean, EnvList, loadConfig } from './load-config';

class SampleConfig {
  @IsString()
  WAGGLE_URL!: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  WAGGLE_PORT = 3000;

  @IsOptional()
  @IsString()
  WAGGLE_SECRET?: string;

  @EnvBoolean()
  @IsOptional()
  WAGGLE_FLAG?: boolean;

  @EnvList()
  @IsString({ each: true })
  WAGGLE_LIST: string[] = [];
}

describe('loadConfig', () => {
  it('converts, defaults, and reads NAME_FILE for declared variables only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'waggle-config-'));
    writeFileSync(join(dir, 'secret'), 's3cret\n');
    const config = loadConfig(SampleConfig, {
      WAGGLE_URL: 'x',
      WAGGLE_SECRET_FILE: join(dir, 'secret'),
      WAGGLE_FLAG: 'false',
      WAGGLE_LIST: 'a, b,,c',
      OTHER_FILE: '/does/not/exist',
    });
    assert.equal(config.WAGGLE_PORT, 3000);
    assert.equal(config.WAGGLE_SECRET, 's3cret');
    assert.equal(config.WAGGLE_FLAG, false);
    assert.deepEqual(config.WAGGLE_LIST, ['a', 'b', 'c']);
    assert.equal(loadConfig(SampleConfig, { WAGGLE_URL: 'x', WAGGLE_FLAG: 'yes' }).WAGGLE_FLAG, true);
  });

  it('lists every bad variable at once', () => {
    assert.throws(
      () => loadConfig(SampleConfig, { WAGGLE_PORT: 'zero', WAGGLE_SECRET: 'a', WAGGLE_SECRET_FILE: '/x' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const text = error.problems.join('\n');
        assert.match(text, /WAGGLE_URL/);
        assert.match(text, /WAGGLE_PORT/);
        assert.match(text, /WAGGLE_SECRET and WAGGLE_SECRET_FILE are both set/);
        return true;
      },
    );
  });
});
