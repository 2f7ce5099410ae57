import { readFileSync } from 'node:fs';

import { connect, credsAuthenticator } from 'nats';

/**
 * Baseline of a returning agent: a fresh process that connects, pulls `n` stored messages in
 * batches of 500 from a durable consumer, acks each, and exits. Argv: url, creds file, stream, durable, n.
 */
async function main() {
  const [url, credsFile, stream, durable, count] = process.argv.slice(2);
  if (!url || !credsFile || !stream || !durable || !count) {
    throw new Error('usage: jetstream-drain <url> <creds-file> <stream> <durable> <n>');
  }
  const n = Number(count);
  const nc = await connect({ servers: url, authenticator: credsAuthenticator(readFileSync(credsFile)) });
  const consumer = await nc.jetstream().consumers.get(stream, durable);
  let got = 0;
  while (got < n) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 5_000 });
    for await (const m of batch) {
      m.ack();
      got++;
    }
  }
  await nc.drain();
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
