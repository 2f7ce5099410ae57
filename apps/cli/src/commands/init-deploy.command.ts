import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import type { Command } from 'commander';

import { generateAuthMaterial, natsServerConfig, readAuthMaterial, writeAuthMaterial } from '@waggle/credentials';

import { out } from '../output';

/** uid/gid of the `node` user in the node:24 image, which runs the hub's apps. */
const APP_UID = 1000;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function writeSecret(path: string, content: string, created: string[]): Promise<void> {
  if (await exists(path)) {
    return;
  }
  await writeFile(path, content, { mode: 0o600 });
  created.push(path);
}

interface InitDeployFlags {
  dir: string;
  natsHost: string;
  postgresHost: string;
  postgresDb: string;
}

/**
 * `waggle init-deploy`: the secrets and NATS configuration of a container deployment,
 * generated once (never overwritten): no default password anywhere.
 */
export function registerInitDeploy(program: Command) {
  program
    .command('init-deploy')
    .description('generate NATS auth, the NATS config, and Postgres/Grafana passwords for a deployment (idempotent)')
    .requiredOption('--dir <dir>', 'where to write (a Docker volume or a folder to turn into Docker secrets)')
    .option('--nats-host <host>', 'NATS host name as seen by the hub services', 'nats')
    .option('--postgres-host <host>', 'Postgres host name as seen by the hub services', 'postgres')
    .option('--postgres-db <name>', 'database name', 'waggle')
    .action(async (flags: InitDeployFlags) => {
      const dir = resolve(flags.dir);
      const created: string[] = [];
      for (const sub of ['nats', 'postgres', 'grafana', 'github', 'vault']) {
        await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
      }
      const authDir = join(dir, 'nats', 'auth');
      let material = await readAuthMaterial(authDir);
      if (!material) {
        material = await generateAuthMaterial();
        await writeAuthMaterial(authDir, material);
        created.push(`${authDir}/*`);
      }
      await writeSecret(
        join(dir, 'nats', 'nats-server.conf'),
        natsServerConfig(material, {
          host: '0.0.0.0',
          port: 4222,
          httpPort: 8222,
          storeDir: '/data/jetstream',
          resolverDir: '/data/resolver',
          syncAlways: true,
        }),
        created,
      );
      const passwordFile = join(dir, 'postgres', 'password');
      await writeSecret(passwordFile, randomBytes(24).toString('base64url'), created);
      const password = (await readFile(passwordFile, 'utf8')).trim();
      await writeSecret(
        join(dir, 'postgres', 'database-url'),
        `postgres://waggle:${encodeURIComponent(password)}@${flags.postgresHost}:5432/${flags.postgresDb}`,
        created,
      );
      await writeSecret(join(dir, 'grafana', 'admin-password'), randomBytes(18).toString('base64url'), created);
      // Seals the GitHub bot's webhook secrets at rest: losing it means watching the repositories again.
      await writeSecret(join(dir, 'github', 'secrets-key'), randomBytes(32).toString('base64'), created);
      // The vault's master key (only the vault mounts it): losing it loses every secret, so back it up apart from the database.
      await writeSecret(join(dir, 'vault', 'master-key'), randomBytes(32).toString('base64'), created);
      if (process.getuid?.() === 0) {
        const walk = async (path: string): Promise<void> => {
          await chown(path, APP_UID, APP_UID);
          if ((await stat(path)).isDirectory()) {
            for (const entry of await readdir(path)) {
              await walk(join(path, entry));
            }
          }
        };
        await walk(dir);
      }
      out.line(created.length ? `created:\n  ${created.join('\n  ')}` : `nothing to do: ${dir} is already initialised`);
    });
}
