import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

import type { MessageView, Page } from '@waggle/contracts';
import type { AgentProcess } from '@waggle/testing';
import { eventually, TestHub } from '@waggle/testing';

/** Where the browser tests leave their screenshots (look at them: a page that passes can still look wrong). */
const SCREENSHOTS = join(__dirname, '..', '..', 'screenshots');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The dashboard in a real browser (Debian's Chromium): sign in, see the fleet live, send a message. */
describe('the web dashboard', () => {
  let hub: TestHub;
  let agent: AgentProcess;
  let browser: Browser;

  before(async () => {
    hub = await TestHub.start();
    agent = await hub.startAgent('soda-yeti');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await hub.stop();
  });

  it('refuses a wrong token, then shows machines, live events and sends a message', async () => {
    const page = await browser.newPage();
    await page.goto(`${hub.url}/`);
    await page.fill('#token', 'wgl_adm_wrong');
    await page.click('#signin');
    await page.waitForFunction(() => document.getElementById('login-error')!.textContent.length > 0);
    assert.match((await page.textContent('#login-error')) ?? '', /unknown or revoked/);

    await page.fill('#token', hub.adminToken);
    await page.click('#signin');
    await page.waitForSelector('tr[data-machine="soda-yeti"]');
    assert.match((await page.textContent('tr[data-machine="soda-yeti"]')) ?? '', /online/);
    await page.waitForFunction(() => document.getElementById('live')!.textContent === 'live');

    await page.fill('#to', 'soda-yeti');
    await page.fill('#body', 'sent from the dashboard');
    await page.click('#send button');
    await page.waitForFunction(() => document.getElementById('feed')!.textContent.includes('message.delivered'), null, {
      timeout: 15_000,
    });
    await eventually(async () => assert.ok((await agent.messages()).some((m) => m.body === 'sent from the dashboard')));
    const stored = await hub.api<Page<MessageView>>('GET', '/api/messages?limit=1');
    assert.equal(stored.body.items[0]?.from.name, 'admin');
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-desktop.png'), fullPage: true });

    await agent.kill('SIGKILL');
    await page.waitForFunction(
      () => document.querySelector('tr[data-machine="soda-yeti"]')!.textContent.includes('offline'),
      null,
      { timeout: 15_000 },
    );
  });

  it('fits a phone: nothing scrolls sideways at 390 px', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${hub.url}/`);
    await page.fill('#token', hub.adminToken);
    await page.click('#signin');
    await page.waitForSelector('tr[data-machine="soda-yeti"]');
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-phone.png'), fullPage: true });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page is ${width} px wide`);
  });
});
