import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { connect, credsAuthenticator } from 'nats';
import type { NatsConnection } from 'nats';

import type { Page, SecretAuditView } from '@waggle/contracts';
import { authMaterialFiles } from '@waggle/credentials';
import { eventually, FakeGithub, FakeLlmProvider, TestHub } from '@waggle/testing';

describe("vault: Waggle's own credentials as vault references (an LLM provider's API key, the GitHub bot's token)", () => {
  let hub: TestHub;
  let provider: FakeLlmProvider;
  let github: FakeGithub;
  let dir: string;
  let sniffer: NatsConnection;
  const traffic: string[] = [];
  const key = `sk-vault-${randomBytes(16).toString('hex')}`;
  const botToken = `ghp_${randomBytes(18).toString('hex')}`;

  before(async () => {
    provider = await FakeLlmProvider.start('openai');
    dir = await mkdtemp(join(tmpdir(), 'waggle-vault-gh-'));
    github = await FakeGithub.start({ dir: join(dir, 'remote') });
    github.addUser('waggle-bot', botToken);
    await github.createRepo('octo', 'widgets', { collaborators: ['waggle-bot'], files: { 'README.md': '# w\n' } });
    hub = await TestHub.start({
      vault: {},
      // The bot's token is a vault reference; the secret does not exist yet at the first start.
      github: { env: { GITHUB_TOKEN: 'vault:gh-bot-token', WAGGLE_GITHUB_API_URL: github.url } },
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
    await github?.stop();
    await rm(dir, { recursive: true, force: true });
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

  it("reads the GitHub bot's token from the vault at start; without the secret the bot stays idle and says why", async () => {
    const bot = hub.githubBot!;
    assert.match(bot.text(), /the GitHub token could not be read from the vault; the bot stays idle/);
    assert.equal(github.requests.length, 0, 'an idle bot calls nothing');
    assert.equal(
      (await hub.api('POST', '/api/secrets', { name: 'gh-bot-token', value: botToken, category: 'token' })).status,
      201,
    );
    await bot.restart();
    await eventually(
      () => assert.match(bot.text().split('github-bot stopping').at(-1) ?? '', /"msg":"github-bot ready"/),
      {
        what: 'the bot ready again',
      },
    );
    const watched = await hub.api('POST', '/api/github/repos', { repo: 'octo/widgets', label: 'waggle', poll: true });
    assert.equal(watched.status, 201, JSON.stringify(watched.body));
    await eventually(
      () =>
        assert.ok(github.requests.some((r) => r.login === 'waggle-bot' && r.path.startsWith('/repos/octo/widgets'))),
      { what: 'the bot calling GitHub as waggle-bot' },
    );
    const audit = await hub.api<Page<SecretAuditView>>('GET', '/api/secrets/audit?action=use');
    assert.ok(audit.body.items.some((e) => e.secretName === 'gh-bot-token' && e.actor.name === 'github-bot'));
    await sniffer.flush();
    assert.ok(!traffic.some((t) => t.includes(botToken)), 'NATS carried the token');
    assert.ok(!bot.text().includes(botToken), 'the bot printed its token');
  });
});
