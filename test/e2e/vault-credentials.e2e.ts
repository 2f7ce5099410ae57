import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';

import { connect, credsAuthenticator } from 'nats';
import type { NatsConnection } from 'nats';

import type { Page, SecretAuditView } from '@waggle/contracts';
import { authMaterialFiles } from '@waggle/credentials';
import { FakeLlmProvider, TestHub } from '@waggle/testing';

describe("vault: Waggle's own credentials as vault references (an LLM provider's API key)", () => {
  let hub: TestHub;
  let provider: FakeLlmProvider;
  let sniffer: NatsConnection;
  const traffic: string[] = [];
  const key = `sk-vault-${randomBytes(16).toString('hex')}`;

  before(async () => {
    provider = await FakeLlmProvider.start('openai');
    hub = await TestHub.start({
      vault: {},
      llm: {
        env: {
          WAGGLE_LLM_CHAIN: 'openai',
          WAGGLE_LLM_OPENAI_URL: provider.url,
          // Not the key: where the vault keeps it.
          WAGGLE_LLM_OPENAI_API_KEY: 'vault:llm-openai',
          WAGGLE_LLM_RETRIES: '0',
        },
      },
    });
    sniffer = await connect({
      servers: hub.nats.url,
      authenticator: credsAuthenticator(await readFile(authMaterialFiles(hub.nats.authDir).hubCreds)),
    });
    const everything = sniffer.subscribe('>');
    void (async () => {
      for await (const msg of everything) {
        traffic.push(Buffer.from(msg.data).toString('utf8'));
      }
    })();
    await sniffer.flush();
  });
  after(async () => {
    await sniffer?.close();
    await hub?.stop();
    await provider?.stop();
  });

  const chat = () =>
    fetch(`${hub.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.adminToken}` },
      body: JSON.stringify({ model: 'default', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('reads the key from the vault when a call needs it, sealed to the service; a missing secret fails the provider, not the service', async () => {
    const before = await chat();
    assert.equal(before.status, 502, 'no such secret yet: the only provider fails');
    assert.match(await before.text(), /could not be read from the vault/);
    assert.equal(provider.requests.length, 0, 'nothing was sent without a key');

    assert.equal(
      (await hub.api('POST', '/api/secrets', { name: 'llm-openai', value: key, category: 'api_key' })).status,
      201,
    );
    const ok = await chat();
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.equal(provider.requests.at(-1)?.headers.authorization, `Bearer ${key}`);

    const audit = await hub.api<Page<SecretAuditView>>('GET', '/api/secrets/audit?action=use');
    const use = audit.body.items.find((e) => e.secretName === 'llm-openai');
    assert.ok(use);
    assert.deepEqual(use.actor, { kind: 'system', name: 'llm-failover', from: 'service:llm-failover' });

    await sniffer.flush();
    for (const form of [key, Buffer.from(key).toString('base64')]) {
      assert.ok(!traffic.some((t) => t.includes(form)), 'NATS carried the key');
    }
    for (const service of [hub.gateway, ...hub.llmFailovers, hub.vault!]) {
      assert.ok(!service.text().includes(key), `${service.name} printed the key`);
    }
  });
});
