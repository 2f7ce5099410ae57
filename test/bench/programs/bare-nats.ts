import { readFileSync } from 'node:fs';

import { connect, credsAuthenticator } from 'nats';

/** Baseline: a bare Node process holding one NATS connection, idle. Argv: url, creds file. Prints `ready`. */
async function main() {
  const [url, credsFile] = process.argv.slice(2);
  if (!url || !credsFile) {
    throw new Error('usage: bare-nats <url> <creds-file>');
  }
  const nc = await connect({ servers: url, authenticator: credsAuthenticator(readFileSync(credsFile)) });
  process.stdout.write('ready\n');
  await nc.closed();
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
