import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { Client } from 'pg';

import type {
  ErrorBody,
  Page,
  RevealedSecret,
  RotationView,
  SecretAuditView,
  TaskView,
  VaultKeysView,
} from '@waggle/contracts';
import type { ServiceProcess } from '@waggle/testing';
import { eventually, runCli, TestHub } from '@waggle/testing';

/** AES-256-GCM open of a `nonce ‖ tag ‖ ciphertext` column, as an attacker holding one key would try it. */
function tryOpen(key: Buffer, packed: Buffer, ad: Buffer): Buffer | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, packed.subarray(0, 12));
    decipher.setAAD(ad);
    decipher.setAuthTag(packed.subarray(12, 28));
    return Buffer.concat([decipher.update(packed.subarray(28)), decipher.final()]);
  } catch {
    return undefined;
  }
}

const versionAd = (version: number) => Buffer.from(JSON.stringify(['waggle-vault-key-version-v1', version]));
const dataKeyAd = (id: string, version: number) =>
  Buffer.from(JSON.stringify(['waggle-vault-data-key-v1', id, version]));

const SECRETS = 120;

describe('vault: key rotation under load, without downtime; afterwards the old key opens nothing', () => {
  let hub: TestHub;
  let db: Client;
  let replica: ServiceProcess;
  const values = new Map<string, string>();

  before(async () => {
    // Small batches: the rotation takes several transactions while the load runs.
    hub = await TestHub.start({ vault: { env: { WAGGLE_VAULT_ROTATE_BATCH: '10' } } });
    // A second vault replica: requests are shared, and each must notice the other's rotation.
    replica = hub.startVault({ WAGGLE_VAULT_KEY: hub.vaultKey, WAGGLE_VAULT_ROTATE_BATCH: '10' });
    await eventually(() => assert.match(replica.text(), /"msg":"vault ready"/), {
      what: 'the second vault replica ready',
    });
    db = new Client({ connectionString: hub.databaseUrl });
    await db.connect();
    await hub.startAgent('rotor', { allowShell: true, slots: 4 });
    for (let i = 0; i < SECRETS; i++) {
      const value = `v${i}-${randomBytes(10).toString('hex')}`;
      const res = await hub.api('POST', '/api/secrets', { name: `s${i}`, value });
      assert.equal(res.status, 201);
      values.set(`s${i}`, value);
    }
  });
  after(async () => {
    await db?.end();
    await hub?.stop();
  });

  const wrappedVersion = async (version: number) =>
    (
      await db.query<{ wrapped_key: Buffer | null }>(
        `SELECT "wrapped_key" FROM "vault"."key_versions" WHERE "version" = $1`,
        [version],
      )
    ).rows[0]?.wrapped_key ?? null;

  it('re-wraps every data key while tasks use secrets and secrets are written and revealed; the old version is destroyed', async (t) => {
    const master = Buffer.from(hub.vaultKey, 'base64');
    // What a thief of key version 1 (say, from a memory dump) would hold.
    const oldVersionKey = tryOpen(master, (await wrappedVersion(1))!, versionAd(1));
    assert.ok(oldVersionKey, 'version 1 opens with the master key before the rotation');

    let rotating = true;
    const failures: string[] = [];
    const taskIds: string[] = [];
    let writes = 0;
    /** When each reveal during the load answered right. */
    const revealedAt: number[] = [];
    // Three clients at once, each on its own secrets.
    const load = async (client: number) => {
      for (let n = 0; rotating || n < 2; n++) {
        const i = n * 3 + client;
        const name = `s${i % SECRETS}`;
        const task = await hub.api<TaskView & ErrorBody>('POST', '/api/tasks', {
          title: `uses ${name}`,
          kind: 'shell',
          input: { script: 'printf "%s" "$S" | sha256sum' },
          secrets: { S: name },
        });
        if (task.status !== 201) {
          failures.push(`task create ${task.status} ${task.body.message}`);
        } else {
          taskIds.push(task.body.id);
        }
        const fresh = `w${i}-${randomBytes(8).toString('hex')}`;
        const written = await hub.api('POST', '/api/secrets', { name: `during-${i}`, value: fresh });
        if (written.status !== 201) {
          failures.push(`create during rotation: ${written.status}`);
        } else {
          values.set(`during-${i}`, fresh);
          writes++;
        }
        const updated = `u${i}-${randomBytes(8).toString('hex')}`;
        const patch = await hub.api('PATCH', `/api/secrets/${name}`, { value: updated });
        if (patch.status !== 200) {
          failures.push(`update during rotation: ${patch.status}`);
        } else {
          values.set(name, updated);
        }
        const shown = await hub.api<RevealedSecret>('POST', `/api/secrets/${name}/reveal`);
        if (shown.body.value !== values.get(name)) {
          failures.push(`reveal during rotation: ${shown.status} ${JSON.stringify(shown.body).slice(0, 200)}`);
        } else {
          revealedAt.push(Date.now());
        }
      }
    };
    const loading = Promise.all([0, 1, 2].map(load));
    const cli = await runCli(['vault', 'rotate-key', '--json'], {
      WAGGLE_HUB_URL: hub.url,
      WAGGLE_TOKEN: hub.adminToken,
    });
    rotating = false;
    await loading;
    assert.equal(cli.code, 0, cli.stderr);
    const rotation = JSON.parse(cli.stdout) as RotationView;
    assert.equal(rotation.previousVersion, 1);
    assert.equal(rotation.activeVersion, 2);
    assert.ok(rotation.rewrapped > 0);
    assert.deepEqual(failures, [], 'nothing failed while the key rotated');
    assert.ok(writes > 0 && taskIds.length > 0);

    for (const id of taskIds) {
      const task = await eventually(
        async () => {
          const t = await hub.api<TaskView>('GET', `/api/tasks/${id}`);
          assert.ok(['succeeded', 'failed'].includes(t.body.state), t.body.state);
          return t.body;
        },
        { timeoutMs: 60_000, what: `task ${id} finished` },
      );
      assert.equal(task.state, 'succeeded', JSON.stringify(task.result));
    }

    const keys = await hub.api<VaultKeysView>('GET', '/api/vault/keys');
    assert.deepEqual(
      keys.body.versions.map((v) => [v.version, v.state, v.dataKeys]),
      [
        [1, 'retired', 0],
        [2, 'active', values.size],
      ],
    );
    assert.equal(await wrappedVersion(1), null, "version 1's key is destroyed");
    // With version 1's key alone, no data key opens, under either version's binding.
    const rows = await db.query<{ id: string; wrapped_key: Buffer; key_version: number }>(
      `SELECT "id", "wrapped_key", "key_version" FROM "vault"."secrets"`,
    );
    assert.equal(rows.rows.length, values.size);
    for (const row of rows.rows) {
      assert.equal(row.key_version, 2);
      assert.equal(tryOpen(oldVersionKey, row.wrapped_key, dataKeyAd(row.id, 1)), undefined);
      assert.equal(tryOpen(oldVersionKey, row.wrapped_key, dataKeyAd(row.id, 2)), undefined);
    }
    // Everything still reads with the current keys, on either replica.
    for (const [name, value] of [...values].slice(0, 30)) {
      const shown = await hub.api<RevealedSecret>('POST', `/api/secrets/${name}/reveal`);
      assert.equal(shown.body.value, value, name);
    }
    const audit = await hub.api<Page<SecretAuditView>>('GET', '/api/secrets/audit?action=rotate');
    assert.equal(audit.body.items.length, 1);
    const entry = audit.body.items[0]!;
    assert.deepEqual(entry.detail, { from: 1, to: 2, rewrapped: rotation.rewrapped });
    // The rotation ran from (its audit time − its duration) to its audit time: reads answered meanwhile.
    const ended = Date.parse(entry.at);
    const began = ended - rotation.durationMs;
    const during = revealedAt.filter((at) => at >= began && at <= ended + 50).length;
    assert.ok(during > 0, `a reveal answered during the rotation (${began}..${ended}: ${revealedAt.join(',')})`);
    t.diagnostic(
      `rotation: ${rotation.rewrapped} data keys re-wrapped in ${rotation.durationMs} ms (batches of 10, 2 replicas, 3 clients); ${during} reveals answered meanwhile; ${taskIds.length} tasks with secrets, all succeeded`,
    );
  });

  it('a second rotation retires version 2 the same way', async () => {
    const rotated = await hub.api<RotationView>('POST', '/api/vault/rotate');
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
    assert.equal(rotated.body.activeVersion, 3);
    assert.equal(rotated.body.rewrapped, values.size);
    assert.equal(await wrappedVersion(2), null);
    const [name, value] = [...values].at(-1)!;
    assert.equal((await hub.api<RevealedSecret>('POST', `/api/secrets/${name}/reveal`)).body.value, value);
  });

  it('changes the master key on a restart with WAGGLE_VAULT_PREVIOUS_KEY; then the old master key opens nothing and cannot start a vault', async () => {
    const oldMaster = hub.vaultKey;
    const newMaster = randomBytes(32).toString('base64');
    await hub.vault!.kill();
    await replica.kill();
    const changed = hub.startVault({ WAGGLE_VAULT_KEY: newMaster, WAGGLE_VAULT_PREVIOUS_KEY: oldMaster });
    await eventually(() => assert.match(changed.text(), /"msg":"vault ready"/), {
      what: `the vault ready under the new key (${changed.text().slice(-500)})`,
    });
    assert.match(changed.text(), /master key changed/);
    const [name, value] = [...values][0]!;
    const shown = await eventually(async () => {
      const res = await hub.api<RevealedSecret>('POST', `/api/secrets/${name}/reveal`);
      assert.equal(res.status, 201);
      return res.body;
    });
    assert.equal(shown.value, value);
    // The live key version no longer opens with the old master key.
    assert.equal(tryOpen(Buffer.from(oldMaster, 'base64'), (await wrappedVersion(3))!, versionAd(3)), undefined);
    const stale = hub.startVault({ WAGGLE_VAULT_KEY: oldMaster });
    assert.equal(await stale.exited(), 1);
    assert.match(stale.text(), /not the master key this vault was started with/);
    assert.ok(!stale.text().includes(oldMaster), 'the key is not printed');
  });
});
