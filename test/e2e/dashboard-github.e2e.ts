import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromium } from 'playwright-core';
import type { Browser, Page as BrowserPage } from 'playwright-core';

import { childEnvironment } from '@waggle/config';
import { FakeGithub, installFakeClaude, TestHub } from '@waggle/testing';

import { CHROMIUM_ARGS, DESKTOP, SCREENSHOTS, shoot, signIn } from './visor-browser';

const BOT_TOKEN = 'ghp_botBOTbotBOTbotBOTbotBOTbotBOT0001';
const MACHINE_TOKEN = 'ghp_machineMACHINEmachineMACHINE0002';
const OWNER = 'acme';

/** The visor's GitHub page against a real hub, GitHub bot and agent (GitHub itself is the fake in libs/testing). */
describe('the visor: GitHub', () => {
  let dir: string;
  let fake: FakeGithub;
  let hub: TestHub;
  let browser: Browser;
  let page: BrowserPage;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waggle-visor-github-'));
    fake = await FakeGithub.start({ dir: join(dir, 'remote') });
    fake.addUser('waggle-bot', BOT_TOKEN);
    fake.addUser('soda-bot', MACHINE_TOKEN);
    fake.addUser('alice', 'ghp_aliceALICEaliceALICEaliceALICE0003');
    await fake.createRepo(OWNER, 'widgets', {
      collaborators: ['waggle-bot', 'soda-bot'],
      files: { 'README.md': '# widgets\n' },
    });
    const bin = join(dir, 'bin');
    await installFakeClaude(bin);
    hub = await TestHub.start({
      github: { env: { GITHUB_TOKEN: BOT_TOKEN, WAGGLE_GITHUB_API_URL: fake.url, WAGGLE_GITHUB_MAX_ATTEMPTS: '2' } },
    });
    await hub.startAgent('soda-yeti', {
      env: {
        PATH: [bin, childEnvironment().PATH].join(delimiter),
        WAGGLE_AGENT_GITHUB_TOKEN: MACHINE_TOKEN,
        WAGGLE_AGENT_GITHUB_API_URL: fake.url,
        WAGGLE_AGENT_GITHUB_WRITE_INTERVAL_MS: '0',
        WAGGLE_AGENT_GIT_NAME: 'Soda Yeti',
        WAGGLE_AGENT_GIT_EMAIL: 'soda@example.test',
        WAGGLE_AGENT_WORK_DIR: join(dir, 'work'),
      },
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: DESKTOP });
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
    await fake?.stop();
    if (dir) {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('watches a repository (its secret shown once), then shows an issue become a task and a pull request, done', async () => {
    await signIn(page, hub.url, 'admin', hub.adminPassword);
    await page.getByRole('link', { name: 'GitHub' }).click();
    await page.getByLabel(/Watch a repository/).fill(`${OWNER}/widgets`);
    await page.getByRole('button', { name: 'Watch' }).click();
    const secret = (await page.getByTestId('webhook-secret').innerText()).trim();
    assert.ok(secret.length >= 16, 'the hub made a webhook secret and showed it');
    await page.keyboard.press('Escape');
    await page.getByTestId('repos').getByText(`${OWNER}/widgets`).waitFor();
    assert.equal(await page.getByTestId('webhook-secret').count(), 0, 'the secret is shown once');

    const issue = fake.openIssue(OWNER, 'widgets', {
      title: 'Add a changelog',
      body: 'We need CHANGES.md.',
      labels: ['waggle'],
      user: 'alice',
    });
    // Signed with the secret the page showed: the hub accepts it.
    const delivered = await FakeGithub.deliver(`${hub.url}/api/github/webhook`, {
      event: 'issues',
      deliveryId: 'visor-delivery-1',
      payload: fake.issuesEvent(OWNER, 'widgets', issue.number, 'opened'),
      secret,
    });
    assert.equal(delivered.status, 200, JSON.stringify(delivered.body));

    const row = page.locator(`[data-link="${OWNER}/widgets#${issue.number}"]`);
    await row.waitFor({ timeout: 20_000 });
    await row.locator('[data-link-status=done]').waitFor({ timeout: 60_000 });
    const pr = fake.pulls(OWNER, 'widgets')[0];
    assert.ok(pr, 'a pull request was opened');
    assert.equal(await row.getByRole('link', { name: `PR #${pr.number}` }).getAttribute('href'), pr.html_url);
    assert.match(await row.innerText(), /soda-yeti/);
    await shoot(page, 'github');
  });
});
