import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page as BrowserPage } from 'playwright-core';

import type { MessageView, MetricHistoryView, Page, TaskView, WaggleEvent } from '@waggle/contracts';
import type { AgentProcess } from '@waggle/testing';
import { eventually, FakeLlmProvider, rateWindowWithRoom, TestHub } from '@waggle/testing';

import { CHROMIUM_ARGS, DESKTOP, SCREENSHOTS, shoot, signIn } from './visor-browser';

/** JavaScript a browser may download to show the first page (gzipped, as the gateway sends it). */
const FIRST_LOAD_JS_BUDGET = 250 * 1024;

/** The visor in a real browser (Debian's Chromium) against a real hub with real agents. */
describe('the visor (web dashboard)', () => {
  let hub: TestHub;
  let soda: AgentProcess;
  let mint: AgentProcess;
  let browser: Browser;
  let admin: BrowserContext;
  let page: BrowserPage;
  let anthropic: FakeLlmProvider;
  let openai: FakeLlmProvider;

  before(async () => {
    [anthropic, openai] = await Promise.all([FakeLlmProvider.start('anthropic'), FakeLlmProvider.start('openai')]);
    hub = await TestHub.start({
      llm: {
        env: {
          WAGGLE_LLM_CHAIN: 'anthropic,openai',
          WAGGLE_LLM_ANTHROPIC_URL: anthropic.url,
          WAGGLE_LLM_OPENAI_URL: openai.url,
          WAGGLE_LLM_ANTHROPIC_API_KEY: 'sk-ant-test',
          WAGGLE_LLM_OPENAI_API_KEY: 'sk-test',
          WAGGLE_LLM_RETRIES: '0',
          WAGGLE_LLM_TIMEOUT_MS: '2000',
        },
      },
    });
    [soda, mint] = await Promise.all([
      hub.startAgent('soda-yeti', { allowCommand: true, labels: ['room=lab'] }),
      hub.startAgent('mint-otter'),
    ]);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    admin = await browser.newContext({ viewport: DESKTOP });
    page = await admin.newPage();
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await hub.stop();
    await Promise.all([anthropic?.stop(), openai?.stop()]);
  });

  it('signs in with name and password, loads little script, and shows the fleet and named history', async (t) => {
    let firstLoadJs = 0;
    page.on('response', (res) => {
      if (res.url().endsWith('.js')) {
        void res
          .request()
          .sizes()
          .then((s) => (firstLoadJs += s.responseBodySize));
      }
    });
    await page.goto(`${hub.url}/`);
    await page.waitForURL(/\/sign-in$/);
    await shoot(page, 'sign-in');
    await page.locator('input[name=username]').fill('admin');
    await page.locator('input[name=password]').fill('not the password');
    await page.getByTestId('sign-in').click();
    assert.match(await page.getByTestId('sign-in-error').innerText(), /wrong name or password/);

    await page.locator('input[name=password]').fill(hub.adminPassword);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('user-menu').waitFor();
    assert.equal(await page.getByTestId('user-menu').getAttribute('aria-label'), 'admin, admin: account menu');
    await page.getByText('live', { exact: true }).waitFor();
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=stat-machines]')?.textContent?.includes('2 / 2'),
    );
    // History from before the page loaded, in words with the machine's name.
    await page.locator('[data-event="machine.online"]', { hasText: 'soda-yeti came online' }).first().waitFor();
    t.diagnostic(`JavaScript on first load: ${(firstLoadJs / 1024).toFixed(1)} KB gzipped`);
    assert.ok(firstLoadJs > 0 && firstLoadJs <= FIRST_LOAD_JS_BUDGET, `first load sent ${firstLoadJs} bytes of script`);
    await shoot(page, 'overview');
  });

  it('keeps an API token sign-in for token holders, and signs out', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const tab = await context.newPage();
    await tab.goto(`${hub.url}/sign-in`);
    await tab.getByTestId('token-tab').click();
    await tab.locator('input[name=token]').fill('wgl_adm_wrong');
    await tab.getByTestId('sign-in-token').click();
    await tab.getByTestId('sign-in-error').waitFor();
    await tab.locator('input[name=token]').fill(hub.adminToken);
    await tab.getByTestId('sign-in-token').click();
    await tab.getByTestId('user-menu').waitFor();
    assert.match((await tab.getByTestId('user-menu').getAttribute('aria-label')) ?? '', /^admin, admin/);
    await tab.getByTestId('user-menu').click();
    await tab.getByTestId('sign-out').click();
    await tab.waitForURL(/\/sign-in$/);
    await tab.goto(`${hub.url}/machines`);
    await tab.waitForURL(/\/sign-in$/);
    await context.close();
  });

  it('shows machines as a table and a network, a machine page, and a machine going offline and back', async () => {
    await page.getByRole('link', { name: 'Machines' }).click();
    const row = page.locator('tr[data-machine="mint-otter"]');
    await row.locator('[data-status=online]').waitFor();
    await shoot(page, 'machines');
    await page.getByTestId('network-tab').click();
    await page.getByTestId('network').getByText('soda-yeti').waitFor();
    // Narrowed to a phone, the picture fits itself again: every machine inside its box.
    await page.setViewportSize({ width: 390, height: 844 });
    await eventually(async () => {
      const box = (await page.getByTestId('network').boundingBox())!;
      for (const name of ['soda-yeti', 'mint-otter']) {
        const node = (await page.getByTestId('network').getByText(name).boundingBox())!;
        assert.ok(node.x >= box.x && node.x + node.width <= box.x + box.width + 1, `${name} is inside the picture`);
      }
    });
    await page.setViewportSize({ width: 1280, height: 800 });
    await shoot(page, 'network');
    await page.getByRole('tab', { name: 'Table' }).click();

    await page.getByTestId('join-machine').click();
    const command = await page.getByTestId('join-command').innerText();
    assert.match(command, new RegExp(`npx waggle agent --hub ${hub.url} --join-token wgl_join_\\S+ --name NAME`));
    await page.keyboard.press('Escape');

    await mint.kill('SIGKILL');
    await row.locator('[data-status=offline]').waitFor({ timeout: 20_000 });
    mint.start();
    await row.locator('[data-status=online]').waitFor({ timeout: 20_000 });

    await page.locator('tr[data-machine="soda-yeti"] a').click();
    await page.getByTestId('machine-page').waitFor();
    await page.getByTestId('metric-charts').locator('.recharts-line').first().waitFor({ state: 'attached' });
    assert.match(await page.getByTestId('machine-page').innerText(), /room=lab/i);
    await shoot(page, 'machine');
  });

  it('chat: sends a message to a machine and watches it reach read', async () => {
    await page.getByRole('link', { name: 'Chat' }).click();
    await page.locator('[data-thread="soda-yeti"]').click();
    await page.getByText('Thread with soda-yeti').waitFor();
    await page.getByTestId('message-body').fill('rebase on main, please');
    await page.getByTestId('send-message').click();
    const sent = await eventually(async () => {
      const res = await hub.api<Page<MessageView>>('GET', '/api/messages?machine=soda-yeti&limit=1');
      assert.equal(res.body.items[0]?.body, 'rebase on main, please');
      return res.body.items[0];
    });
    assert.equal(sent.from.name, 'admin');
    const item = page.locator(`[data-message="${sent.id}"]`);
    await item.locator('[data-delivery=delivered]').waitFor({ timeout: 15_000 });
    await eventually(async () => assert.ok((await soda.messages()).some((m) => m.id === sent.id)));
    await soda.inbox.markRead([sent.id]);
    await item.locator('[data-delivery=read]').waitFor({ timeout: 15_000 });

    // What a machine sends to the hub shows in its thread, live.
    const token = (await soda.identity())!.apiToken;
    const reply = await fetch(`${hub.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ to: 'hub', body: 'rebased, tests pass' }),
    });
    assert.equal(reply.status, 201);
    await page.getByTestId('thread').getByText('rebased, tests pass').waitFor({ timeout: 15_000 });
    await shoot(page, 'chat');
  });

  it('tasks: says who could run a task, creates it, shows its coloured output live, and cancels another', async () => {
    await page.getByRole('link', { name: 'Tasks' }).click();
    await page.getByTestId('new-task').click();
    await page.getByTestId('task-title').fill('Print in colour');
    await page.getByTestId('task-program').fill('sh');
    await page
      .getByTestId('task-args')
      .fill(`-c "printf '\\033[32mgreen light\\033[0m\\n'; for i in 1 2 3; do echo line $i; sleep 0.5; done"`);
    await page.locator('[data-eligible="soda-yeti"]').waitFor();
    assert.equal(await page.locator('[data-eligible="mint-otter"]').count(), 0, 'mint-otter runs no commands');
    // The task-router's reason, from its dry run.
    assert.match(await page.getByTestId('eligible').innerText(), /mint-otter \(does not run command tasks/);
    await shoot(page, 'new-task');
    await page.getByTestId('create-task').click();
    await page.getByTestId('task-page').waitFor();
    const log = page.getByTestId('task-log');
    await log.getByText('line 3').waitFor({ timeout: 20_000 });
    // Every line once and in order, whether it came with the page or live.
    const lines = (await log.locator('.xterm-rows').innerText()).split('\n').filter((l) => l.trim());
    assert.deepEqual(lines.slice(0, 4), ['green light', 'line 1', 'line 2', 'line 3']);
    // The ANSI colour reached the terminal: green text is drawn in xterm's green.
    assert.ok(await log.locator('span.xterm-fg-2', { hasText: 'green light' }).count(), 'green text in green');
    await page.locator('[data-testid=task-page][data-state=succeeded]').waitFor({ timeout: 20_000 });
    await shoot(page, 'task');

    const long = await hub.api<TaskView>('POST', '/api/tasks', {
      title: 'Wait a long time',
      kind: 'command',
      target: 'soda-yeti',
      input: { program: 'sh', args: ['-c', 'echo waiting; sleep 60'] },
    });
    await page.goto(`${hub.url}/tasks/${long.body.id}`);
    await page.getByTestId('task-log').getByText('waiting').waitFor({ timeout: 20_000 });
    await page.getByTestId('cancel-task').click();
    await page.locator('[data-testid=task-page][data-state=cancelled]').waitFor({ timeout: 20_000 });
    // Retry queues it again: it runs once more (a second attempt), then is cancelled for good.
    await page.getByTestId('retry-task').click();
    await page.locator('[data-testid=task-page][data-state=running]').waitFor({ timeout: 20_000 });
    await page.getByTestId('attempts').getByRole('row').nth(2).waitFor();
    await page.getByTestId('cancel-task').click();
    await page.locator('[data-testid=task-page][data-state=cancelled]').waitFor({ timeout: 20_000 });

    await page.getByRole('link', { name: 'Tasks' }).click();
    await page.locator('tr[data-task="Wait a long time"] [data-state=cancelled]').waitFor();
    // Search runs on the hub, over every task: only the matching title is listed.
    await page.getByTestId('task-search').fill('COLOUR');
    await page.getByTestId('task-search').press('Enter');
    await page.waitForURL(/[?&]q=COLOUR/);
    await page.locator('tr[data-task="Wait a long time"]').waitFor({ state: 'detached' });
    assert.equal(await page.locator('tr[data-task="Print in colour"]').count(), 1);
    await page.getByTestId('task-search').fill('');
    await page.getByTestId('task-search').press('Enter');
    await page.locator('tr[data-task="Wait a long time"]').waitFor();
    await shoot(page, 'tasks');
  });

  it('LLM: shows the spend after calls, the providers and their breakers, and a failover', async () => {
    const chat = () =>
      fetch(`${hub.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.adminToken}` },
        body: JSON.stringify({ model: 'default', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }),
      });
    anthropic.script({ kind: 'status', status: 500 });
    assert.equal((await chat()).status, 200, 'answered by openai after anthropic failed');
    assert.equal((await chat()).status, 200, 'answered by anthropic');
    await page.getByRole('link', { name: 'LLM' }).click();
    await page.getByTestId('providers').locator('tr', { hasText: 'anthropic' }).waitFor();
    await page.getByTestId('providers').locator('tr', { hasText: 'openai' }).waitFor();
    await page.getByTestId('failovers').getByText('anthropic → openai').waitFor();
    await page
      .getByTestId('spend-today')
      .getByText(/today \$0\.\d*[1-9]\d* · 2 calls/)
      .waitFor();
    await shoot(page, 'llm');
    await page.getByRole('link', { name: 'Overview' }).click();
    await page
      .getByTestId('stat-llm')
      .getByText(/\$0\.\d*[1-9]/)
      .waitFor();

    // Dark, and back.
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    await page.waitForFunction(() => document.documentElement.dataset.mantineColorScheme === 'dark');
    await shoot(page, 'overview-dark');
    await page.getByRole('button', { name: 'Switch to light theme' }).click();
    await page.waitForFunction(() => document.documentElement.dataset.mantineColorScheme === 'light');
  });

  it('a viewer sees no cancel or create button, and the API refuses them with 403', async () => {
    const vera = await hub.createUser('vera', 'viewer');
    const running = await hub.api<TaskView>('POST', '/api/tasks', {
      title: 'Keep running',
      kind: 'command',
      target: 'soda-yeti',
      input: { program: 'sh', args: ['-c', 'echo still here; sleep 60'] },
    });
    const context = await browser.newContext({ viewport: DESKTOP });
    const tab = await context.newPage();
    await signIn(tab, hub.url, vera.name, vera.password);
    assert.equal(await tab.getByTestId('user-menu').getAttribute('aria-label'), 'vera, viewer: account menu');
    await tab.goto(`${hub.url}/tasks/${running.body.id}`);
    await tab.getByTestId('task-log').getByText('still here').waitFor({ timeout: 20_000 });
    assert.equal(await tab.getByTestId('cancel-task').count(), 0, 'no cancel button for a viewer');
    await tab.goto(`${hub.url}/tasks`);
    await tab.getByTestId('task-table').waitFor();
    assert.equal(await tab.getByTestId('new-task').count(), 0, 'no create button for a viewer');
    const cancel = await tab.evaluate(
      async (id) => (await fetch(`/api/tasks/${id}/cancel`, { method: 'POST' })).status,
      running.body.id,
    );
    assert.equal(cancel, 403);
    // A viewer may ask where a task could run (a dry run creates nothing).
    const check = await tab.evaluate(async () => {
      const res = await fetch('/api/tasks/placement', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'command', requires: { labels: ['room=lab'] } }),
      });
      return { status: res.status, body: (await res.json()) as { able: number; machines: { name: string }[] } };
    });
    assert.equal(check.status, 200);
    assert.equal(check.body.able, 1);
    assert.equal(check.body.machines[0]?.name, 'soda-yeti');
    const unknown = await hub.api('POST', '/api/tasks/placement', { kind: 'command', target: 'no-such-machine' });
    assert.equal(unknown.status, 404);
    await context.close();
    await hub.api('POST', `/api/tasks/${running.body.id}/cancel`, {});
  });

  it('warns before an idle session ends, and "stay signed in" extends it', async () => {
    // A gateway whose sessions end after 125 s idle: the page warns when 2 minutes are left.
    const short = await hub.startGateway({ WAGGLE_SESSION_IDLE_SECONDS: '125' });
    const context = await browser.newContext({ viewport: DESKTOP });
    const tab = await context.newPage();
    await signIn(tab, short.url, 'admin', hub.adminPassword);
    const expiresAt = () =>
      tab.evaluate(async () => ((await (await fetch('/api/auth/session')).json()) as { expiresAt: string }).expiresAt);
    const before = await expiresAt();
    const warning = tab.getByTestId('idle-warning');
    await warning.waitFor({ timeout: 20_000 });
    assert.match(await warning.innerText(), /You will be signed out in \d+ s for inactivity/);
    await shoot(tab, 'idle-warning');
    await tab.getByRole('button', { name: 'Stay signed in' }).click();
    await warning.waitFor({ state: 'hidden' });
    assert.ok(Date.parse(await expiresAt()) > Date.parse(before), 'the session was extended');
    await context.close();
  });

  it('history: a gateway started later serves the events from before it, in pages; a machine sees its own only', async () => {
    const later = await hub.startGateway({ WAGGLE_PUBLIC_URL: 'http://hub.example:3000' });
    // The page learns the hub's public address for the join command.
    assert.match(
      await (await fetch(`${later.url}/machines`)).text(),
      /<meta name="waggle-hub-url" content="http:\/\/hub.example:3000" \/>/,
    );
    const get = async <T>(url: string, token = hub.adminToken) => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as T;
    };
    const ids: string[] = [];
    const types = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await get<Page<WaggleEvent>>(`${later.url}/api/events?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      assert.ok(page.items.length <= 7);
      for (const e of page.items) {
        ids.push(e.id);
        types.add(e.type);
      }
      cursor = page.nextCursor;
    } while (cursor);
    assert.equal(new Set(ids).size, ids.length, 'no event twice across pages');
    for (const type of ['machine.joined', 'message.read', 'task.succeeded', 'task.cancelled', 'llm.failover']) {
      assert.ok(types.has(type), `${type} is in the history`);
    }
    const mintView = await hub.api<{ id: string }>('GET', '/api/machines/mint-otter');
    const own = await get<Page<WaggleEvent>>(`${hub.url}/api/events?limit=200`, (await mint.identity())!.apiToken);
    assert.ok(own.items.length > 0);
    assert.ok(own.items.every((e) => (e.data as { machineId?: string }).machineId === mintView.body.id));

    // The machine page's chart: the gateway keeps the last hour of heartbeats.
    const metrics = await get<MetricHistoryView>(`${hub.url}/api/machines/soda-yeti/metrics`);
    assert.ok(metrics.samples.length >= 1);
    assert.ok(metrics.samples.every((m) => m.memoryTotalMb > 0));
  });

  it('five wrong passwords get 429, and the page says when to try again', async () => {
    await rateWindowWithRoom();
    const context = await browser.newContext({ viewport: DESKTOP });
    const tab = await context.newPage();
    await tab.goto(`${hub.url}/sign-in`);
    await tab.locator('input[name=username]').fill('admin');
    for (let i = 0; i < 6; i++) {
      await tab.locator('input[name=password]').fill(`wrong ${i}`);
      const answered = tab.waitForResponse((r) => r.url().endsWith('/api/auth/login'));
      await tab.getByTestId('sign-in').click();
      const status = (await answered).status();
      const text = await tab.getByTestId('sign-in-error').innerText();
      if (status === 429) {
        assert.match(text, /Too many attempts\. Try again in \d+ s\./);
        await context.close();
        return;
      }
      assert.equal(status, 401);
      assert.match(text, /wrong name or password/);
    }
    assert.fail('six wrong passwords were never refused as too many');
  });
});
