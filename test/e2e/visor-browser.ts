import assert from 'node:assert/strict';
import { join } from 'node:path';

import type { Page as BrowserPage } from 'playwright-core';

/** Where the browser tests leave their screenshots, linked from the README (look at them: a page that passes can still look wrong). */
export const SCREENSHOTS = join(__dirname, '..', '..', '..', 'docs', 'screenshots');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** Charts and the terminal size themselves on resize and the menu slides away: wait until nothing moves. */
export async function settled(page: BrowserPage) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.waitForFunction(() =>
    document.getAnimations().every((a) => !(a instanceof CSSTransition) || a.playState !== 'running'),
  );
}

/**
 * Saves the page as `<name>-desktop.png` and `<name>-phone.png`, and checks that at 390 px
 * nothing scrolls sideways.
 */
export async function shoot(page: BrowserPage, name: string) {
  await page.setViewportSize(DESKTOP);
  await settled(page);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await settled(page);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `${name}: the page is ${width} px wide on a 390 px phone`);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

/** Signs in through the page of the hub (or one gateway of it) at `url`. */
export async function signIn(page: BrowserPage, url: string, name: string, password: string) {
  await page.goto(`${url}/`);
  await page.waitForURL(/\/sign-in$/);
  await page.locator('input[name=username]').fill(name);
  await page.locator('input[name=password]').fill(password);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('user-menu').waitFor();
}
