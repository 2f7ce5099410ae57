import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';

import { Public } from '../auth/auth.decorators';
import { GatewayConfig } from '../gateway.config';

/**
 * The visor's built files (apps/dashboard, built by `npm run build` with Vite): index.html and,
 * under DASHBOARD_ASSETS_PREFIX, its content-hashed scripts and stylesheets.
 */
export const DASHBOARD_DIST = join(__dirname, '..', '..', '..', 'dashboard', 'dist');
export const DASHBOARD_ASSETS = join(DASHBOARD_DIST, 'assets');
export const DASHBOARD_ASSETS_PREFIX = '/assets/';

/** The visor's client-side routes: each answers with index.html, and the page's router shows the route. */
export const DASHBOARD_ROUTES = [
  '',
  'sign-in',
  'machines',
  'machines/:id',
  'chat',
  'chat/:machine',
  'tasks',
  'tasks/new',
  'tasks/:id',
  'llm',
  'github',
];

const MISSING_BUILD = `<!doctype html><meta charset="utf-8"><title>Waggle</title>
<p>The visor is not built: run <code>npm run build</code> (it builds apps/dashboard).</p>`;

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The visor is a single-page app; its routes all answer with its index.html, never cached (so
 * a new build is picked up at once), while the hashed assets it names are cached for a year.
 * Scripts and styles are files, so the Content-Security-Policy (app.ts) needs no inline script.
 */
@ApiExcludeController()
@Controller()
export class DashboardController {
  private readonly page: string;

  constructor(config: GatewayConfig) {
    const built = existsSync(join(DASHBOARD_DIST, 'index.html'))
      ? readFileSync(join(DASHBOARD_DIST, 'index.html'), 'utf8')
      : MISSING_BUILD;
    // The hub's address as other machines reach it (the join command names it), when configured.
    this.page = config.WAGGLE_PUBLIC_URL
      ? built.replace(
          '<head>',
          `<head>\n    <meta name="waggle-hub-url" content="${escapeAttribute(config.WAGGLE_PUBLIC_URL)}" />`,
        )
      : built;
  }

  @Get(DASHBOARD_ROUTES)
  @Public()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  index(): string {
    return this.page;
  }
}
