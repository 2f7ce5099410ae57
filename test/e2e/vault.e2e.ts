import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { Client } from 'pg';

import type { ErrorBody, Page, RevealedSecret, SecretAuditView, SecretView } from '@waggle/contracts';
import type { CliResult } from '@waggle/testing';
import { runCli, spawnCli, TestHub } from '@waggle/testing';

const run = promisify(execFile);

/** Every form a value could leak in: as is, base64, hex. */
function forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  return [value, bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex')];
}

describe('vault: secrets stored with envelope encryption, values out only by an audited reveal', () => {
  let hub: TestHub;
  let db: Client;

  before(async () => {
    hub = await TestHub.start({ vault: {} });
    db = new Client({ connectionString: hub.databaseUrl });
    await db.connect();
  });
  after(async () => {
    await db?.end();
    await hub?.stop();
  });

  const create = (body: Record<string, unknown>) => hub.api<SecretView & ErrorBody>('POST', '/api/secrets', body);
  const reveal = (ref: string, project?: string) =>
    hub.api<RevealedSecret & ErrorBody>('POST', `/api/secrets/${ref}/reveal${project ? `?project=${project}` : ''}`);

  it('stores a secret, lists it without its value, refuses a duplicate name in its scope, reveals and counts', async () => {
    const value = `ghp_${randomBytes(18).toString('hex')}`;
    const created = await create({ name: 'gh-bot', value, category: 'token', description: 'the bot' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.scope, 'global');
    assert.equal(created.body.accessCount, 0);
    assert.ok(!JSON.stringify(created.body).includes(value), 'the create answer carries no value');

    const duplicate = await create({ name: 'gh-bot', value: 'other' });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.code, 'CONFLICT');
    assert.match(duplicate.body.message, /already exists in global/);
    const sameNameInProject = await create({ name: 'gh-bot', value: 'project value', project: 'web' });
    assert.equal(sameNameInProject.status, 201);
    assert.equal(sameNameInProject.body.scope, 'project:web');

    const list = await hub.api<Page<SecretView>>('GET', '/api/secrets?limit=1');
    assert.equal(list.status, 200);
    assert.equal(list.body.items.length, 1);
    assert.ok(list.body.nextCursor, 'a list paginates');
    const second = await hub.api<Page<SecretView>>('GET', `/api/secrets?limit=1&cursor=${list.body.nextCursor}`);
    const both = [...list.body.items, ...second.body.items];
    assert.deepEqual(both.map((s) => s.scope).sort(), ['global', 'project:web']);
    for (const item of both) {
      assert.deepEqual(Object.keys(item).sort(), [
        'accessCount',
        'category',
        'createdAt',
        'description',
        'id',
        'lastAccessedAt',
        'machineLabel',
        'name',
        'project',
        'scope',
        'updatedAt',
      ]);
    }
    assert.ok(!JSON.stringify(both).includes(value));

    const shown = await reveal('gh-bot');
    assert.equal(shown.status, 201, JSON.stringify(shown.body));
    assert.equal(shown.body.value, value);
    assert.equal(shown.body.accessCount, 1);
    assert.ok(shown.body.lastAccessedAt);
    assert.equal((await reveal('gh-bot', 'web')).body.value, 'project value');
    const after = await hub.api<SecretView>('GET', `/api/secrets/${created.body.id}`);
    assert.equal(after.body.accessCount, 1);

    const audit = await hub.api<Page<SecretAuditView>>('GET', `/api/secrets/audit?secretId=${created.body.id}`);
    assert.equal(audit.status, 200);
    assert.deepEqual(
      audit.body.items.map((e) => e.action),
      ['reveal', 'create'],
    );
    for (const entry of audit.body.items) {
      assert.equal(entry.actor.kind, 'token');
      assert.match(entry.actor.from ?? '', /127\.0\.0\.1/);
    }
    assert.ok(!JSON.stringify(audit.body).includes(value), 'the audit trail carries no value');
  });

  it('refuses bad input with the field named, and unknown secrets with 404', async () => {
    const noValue = await create({ name: 'x' });
    assert.equal(noValue.status, 400);
    assert.match(JSON.stringify(noValue.body.details), /value/);
    const badName = await create({ name: '../etc', value: 'v' });
    assert.equal(badName.status, 400);
    assert.match(JSON.stringify(badName.body.details), /name/);
    const reserved = await create({ name: 'audit', value: 'v' });
    assert.equal(reserved.status, 400);
    assert.match(JSON.stringify(reserved.body.details), /reserved/);
    const badCategory = await create({ name: 'ok', value: 'v', category: 'xor' });
    assert.equal(badCategory.status, 400);
    const tooLong = await create({ name: 'big', value: 'x'.repeat(70_000) });
    assert.ok(tooLong.status === 400 || tooLong.status === 413, String(tooLong.status));
    assert.equal((await reveal('nope')).status, 404);
    assert.equal((await hub.api('GET', '/api/secrets?cursor=%%%')).status, 400);
    assert.equal((await hub.api('GET', '/api/secrets', undefined, null)).status, 401);
  });

  it('keeps no plaintext in the database: a pg_dump of the vault schema holds no form of any value', async () => {
    const values = [`sk-${randomBytes(24).toString('hex')}`, 'correct horse battery staple', 'p@ss/w0rd?&=+'];
    for (const [i, value] of values.entries()) {
      assert.equal((await create({ name: `plain-${i}`, value, category: 'password' })).status, 201);
    }
    const url = new URL(hub.databaseUrl);
    const dump = await run('pg_dump', [
      '--schema=vault',
      '--data-only',
      '--column-inserts',
      `--host=${url.hostname}`,
      `--port=${url.port || '5432'}`,
      `--username=${decodeURIComponent(url.username) || 'postgres'}`,
      url.pathname.slice(1),
    ]);
    assert.match(dump.stdout, /INSERT INTO vault\.secrets/, 'the dump holds the secrets table');
    for (const value of values) {
      for (const form of forms(value)) {
        assert.ok(!dump.stdout.includes(form), `the dump holds ${form === value ? 'a value' : 'an encoded value'}`);
      }
    }
  });

  it('encrypts the same value twice to different ciphertexts, nonces and data keys', async () => {
    const value = 'the very same value';
    const a = await create({ name: 'twin-a', value });
    const b = await create({ name: 'twin-b', value });
    const rows = await db.query<{ nonce: Buffer; ciphertext: Buffer; tag: Buffer; wrapped_key: Buffer }>(
      `SELECT "nonce", "ciphertext", "tag", "wrapped_key" FROM "vault"."secrets" WHERE "id" = ANY($1::uuid[])`,
      [[a.body.id, b.body.id]],
    );
    assert.equal(rows.rows.length, 2);
    const [x, y] = rows.rows as [(typeof rows.rows)[0], (typeof rows.rows)[0]];
    assert.equal(x.nonce.length, 12, '96-bit nonce');
    assert.equal(x.tag.length, 16);
    assert.notDeepEqual(x.ciphertext, y.ciphertext);
    assert.notDeepEqual(x.nonce, y.nonce);
    assert.notDeepEqual(x.wrapped_key, y.wrapped_key);
    // A new value is encrypted afresh too: another nonce and another data key.
    const rowOf = async (id: string) =>
      (
        await db.query<{ nonce: Buffer; wrapped_key: Buffer }>(
          `SELECT "nonce", "wrapped_key" FROM "vault"."secrets" WHERE "id" = $1`,
          [id],
        )
      ).rows[0]!;
    const before = await rowOf(a.body.id);
    assert.equal((await hub.api('PATCH', `/api/secrets/${a.body.id}`, { value })).status, 200);
    const again = await rowOf(a.body.id);
    assert.notDeepEqual(again.nonce, before.nonce);
    assert.notDeepEqual(again.wrapped_key, before.wrapped_key);
    assert.equal((await reveal(a.body.id)).body.value, value);
  });

  it('refuses to decrypt when one bit of the ciphertext, tag, nonce, associated data or wrapped key is flipped, and says so without a stack trace', async () => {
    const value = 'integrity matters';
    const made = await create({ name: 'tamper', value, project: 'ops' });
    const id = made.body.id;
    const flip = (column: string) =>
      db.query(
        `UPDATE "vault"."secrets" SET "${column}" = set_byte("${column}", 0, get_byte("${column}", 0) # 1) WHERE "id" = $1`,
        [id],
      );
    for (const column of ['ciphertext', 'tag', 'nonce', 'wrapped_key']) {
      await flip(column);
      const refused = await reveal(id);
      assert.equal(refused.status, 500, `${column}: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.code, 'INTEGRITY_FAILED');
      assert.match(refused.body.message, /failed its integrity check/);
      assert.ok(!JSON.stringify(refused.body).includes('    at '), 'no stack trace');
      assert.ok(!JSON.stringify(refused.body).includes(value));
      await flip(column);
      assert.equal((await reveal(id)).body.value, value, `${column} restored: readable again`);
    }
    // The associated data: the secret's id, name and scope. One bit of the stored name (or scope) flipped.
    for (const column of ['name', 'project']) {
      await db.query(
        `UPDATE "vault"."secrets" SET "${column}" = overlay("${column}" placing chr(ascii(substr("${column}", 1, 1)) # 1) from 1 for 1) WHERE "id" = $1`,
        [id],
      );
      const refused = await reveal(id);
      assert.equal(refused.status, 500, column);
      assert.equal(refused.body.code, 'INTEGRITY_FAILED');
      await db.query(
        `UPDATE "vault"."secrets" SET "${column}" = overlay("${column}" placing chr(ascii(substr("${column}", 1, 1)) # 1) from 1 for 1) WHERE "id" = $1`,
        [id],
      );
    }
    assert.equal((await reveal(id)).body.value, value);
    const failures = await hub.api<Page<SecretAuditView>>(
      'GET',
      `/api/secrets/audit?secretId=${id}&action=integrity_failure`,
    );
    assert.equal(failures.body.items.length, 6);
  });

  it('waggle secrets: set from stdin or a file (never argv), list without values, reveal, delete; waggle vault keys', async () => {
    const env = { WAGGLE_HUB_URL: hub.url, WAGGLE_TOKEN: hub.adminToken, WAGGLE_HOME: join(hub.dir, 'cli-home') };
    const piped = (args: string[], input: string) =>
      new Promise<CliResult>((resolve) => {
        const child = spawnCli(args, env);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
        child.stdin.end(input);
      });
    const fromStdin = `stdin-${randomBytes(8).toString('hex')}`;
    const set = await piped(
      ['secrets', 'set', 'cli-token', '--category', 'api_key', '--project', 'cli'],
      `${fromStdin}\n`,
    );
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /cli-token \(project:cli, api_key\) stored encrypted/);
    const file = join(hub.dir, 'value.txt');
    const fromFile = `file-${randomBytes(8).toString('hex')}`;
    await writeFile(file, `${fromFile}\n`, { mode: 0o600 });
    // `set` on an existing name gives it a new value.
    const again = await runCli(['secrets', 'set', 'cli-token', '--project', 'cli', '--file', file], env);
    assert.equal(again.code, 0, again.stderr);
    const list = await runCli(['secrets', 'list', '--project', 'cli'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /cli-token\W+project:cli\W+api_key/);
    assert.ok(!list.stdout.includes(fromFile) && !list.stdout.includes(fromStdin));
    const shown = await runCli(['secrets', 'reveal', 'cli-token', '--project', 'cli'], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.stdout, `${fromFile}\n`);
    // No value on the command line: the option does not exist.
    const argv = await runCli(['secrets', 'set', 'x', '--value', 'visible-in-ps'], env);
    assert.notEqual(argv.code, 0);
    const keys = await runCli(['vault', 'keys', '--json'], env);
    assert.equal(keys.code, 0, keys.stderr);
    assert.ok((JSON.parse(keys.stdout) as { activeVersion: number }).activeVersion >= 1);
    const deleted = await runCli(['secrets', 'delete', 'cli-token', '--project', 'cli'], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((await reveal('cli-token', 'cli')).status, 404);

    // The audit trail: every step, newest first, one page at a time.
    const steps: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await hub.api<Page<SecretAuditView>>(
        'GET',
        `/api/secrets/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.equal(page.status, 200);
      assert.ok(page.body.items.length <= 2);
      steps.push(...page.body.items.filter((e) => e.secretName === 'cli-token').map((e) => e.action));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(steps, ['delete', 'reveal', 'update', 'create']);
  });

  it('stops at start with a clear message when the master key is wrong, missing or short', async () => {
    const cases: { env: Record<string, string | undefined>; says: RegExp }[] = [
      {
        env: { WAGGLE_VAULT_KEY: randomBytes(32).toString('base64') },
        says: /not the master key this vault was started with/,
      },
      {
        env: { WAGGLE_VAULT_KEY: undefined },
        says: /WAGGLE_VAULT_KEY \(or WAGGLE_VAULT_KEY_FILE\) must be 32 random bytes.*missing/,
      },
      { env: { WAGGLE_VAULT_KEY: randomBytes(16).toString('base64') }, says: /16 bytes where 32 are needed/ },
    ];
    for (const { env, says } of cases) {
      const vault = hub.startVault(env);
      const code = await vault.exited();
      assert.equal(code, 1, vault.text());
      assert.match(vault.text(), says);
      assert.ok(!/\n\s+at /.test(vault.text()), `no stack trace: ${vault.text()}`);
      assert.ok(!vault.text().includes(env.WAGGLE_VAULT_KEY ?? '\u0000'), 'the key is not printed');
    }
    // The right key still opens everything.
    assert.equal((await reveal('gh-bot')).status, 201);
  });
});
