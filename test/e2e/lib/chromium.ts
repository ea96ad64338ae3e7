// Headless Debian chromium driven by playwright-core (never a browser build downloaded by
// playwright). The profile and the browser's TMPDIR live in the run's scope dir; closing the
// context (registered with the scope) ends the browser.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM } from './paths';
import type { Scope } from './scope';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface LaunchedBrowser {
  context: BrowserContext;
  page: Page;
}

export async function launchChromium(
  scope: Scope,
  name = 'chromium',
  viewport: { width: number; height: number } = { width: 1400, height: 900 },
): Promise<LaunchedBrowser> {
  const profile = join(scope.dir, name, 'profile');
  const tmp = join(scope.dir, name, 'tmp');
  mkdirSync(profile, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...process.env, TMPDIR: tmp, XDG_CONFIG_HOME: join(scope.dir, name, 'xdg-config'), XDG_CACHE_HOME: join(scope.dir, name, 'xdg-cache') },
    viewport,
    // The harness handles signals itself and closes the browser in its cleanup.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    timeout: 60_000,
  });
  scope.defer(`chromium (${name})`, () => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}
