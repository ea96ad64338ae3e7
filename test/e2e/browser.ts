// The browser round: the extension used as a user would, through code-server's UI in headless
// chromium. It starts its own code-server with the extension installed, opens a small fixture
// folder holding a C file, waits for the workbench and the explorer row, runs
// "Netmem: Check environment" from the command palette and waits for the report editor with
// the grammar line. Screenshots go to .test-output/e2e/ (a failure always leaves one).
//
// How the extension gets in (NETMEM_E2E_INSTALL):
//   vsix  package the repository with `vsce package --no-dependencies` and install the .vsix with
//         `code-server --install-extension` into the server's fresh extensions dir: this tests
//         what users install (manifest, .vscodeignore, shipped wasm files);
//   dev   load the repository as a development extension (payload extensionDevelopmentPath);
//   auto  (default) vsix when the repository has what vsce needs (a LICENSE and a .vscodeignore,
//         without which vsce asks about the licence or packs the whole tree), otherwise dev with a
//         notice.
// NETMEM_E2E_VSIX=/abs/x.vsix installs that package instead of packaging one (e.g. the artefact of
// `npm run package`, dist/netmem-series.vsix).
//
// Run alone: node --import tsx test/e2e/browser.ts   (after npm run build and scripts/setup-e2e.sh)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from './lib/chromium';
import { createProfile, installExtension, startCodeServer, type CodeServer } from './lib/codeServer';
import { EXTENSION_ID, OUTPUT_DIR, ROOT } from './lib/paths';
import { errorText, onTerminationSignal, removeOldScreenshots, Scope, SIGNAL_EXIT, sleep } from './lib/scope';

export const PALETTE_TITLE = 'Netmem: Check environment';
const REPORT_HEADING = '# Netmem environment';
const GRAMMAR_LINE = /^- C grammar \(tree-sitter-c\): ok/m;
const FIXTURE_FILE = 'skb_frag_demo.c';

export interface StepResult {
  name: string;
  ok: boolean;
  skipped?: boolean;
  error?: string;
  ms: number;
}

export interface BrowserRoundResult {
  steps: StepResult[];
  passed: number;
  failed: number;
  skipped: number;
  screenshots: string[];
  /** Set when a signal stopped the round (it still cleaned up and returned). */
  interrupted?: keyof typeof SIGNAL_EXIT;
}

type InstallMode = 'vsix' | 'dev';

const say = (line: string) => process.stdout.write(`[browser] ${line}\n`);

function chooseInstallMode(): { mode: InstallMode; why: string } {
  if (process.env.NETMEM_E2E_VSIX) return { mode: 'vsix', why: `NETMEM_E2E_VSIX=${process.env.NETMEM_E2E_VSIX}` };
  const wanted = process.env.NETMEM_E2E_INSTALL ?? 'auto';
  if (wanted === 'vsix' || wanted === 'dev') return { mode: wanted, why: `NETMEM_E2E_INSTALL=${wanted}` };
  if (wanted !== 'auto') throw new Error(`NETMEM_E2E_INSTALL must be vsix, dev or auto, not ${wanted}`);
  const missing = [
    ['LICENSE', 'LICENSE.md', 'LICENSE.txt'].some((f) => existsSync(join(ROOT, f))) ? undefined : 'LICENSE',
    existsSync(join(ROOT, '.vscodeignore')) ? undefined : '.vscodeignore',
  ].filter((x): x is string => x !== undefined);
  if (missing.length === 0) return { mode: 'vsix', why: 'the repository can be packaged' };
  return { mode: 'dev', why: `NOT packaging a .vsix: the repository has no ${missing.join(' and no ')}` };
}

/** Runs the browser round in its own scope; never throws, reports per step. */
export async function runBrowserRound(options: { timeoutMs?: number } = {}): Promise<BrowserRoundResult> {
  const timeoutMs = options.timeoutMs ?? 180_000;
  const started = Date.now();
  const savedTmp = process.env.TMPDIR;
  const scope = new Scope('netmem-e2e-browser-', say);
  // Playwright's own temp files land in the scope too.
  const ownTmp = join(scope.dir, 'tmp');
  mkdirSync(ownTmp);
  process.env.TMPDIR = ownTmp;
  const result: BrowserRoundResult = { steps: [], passed: 0, failed: 0, skipped: 0, screenshots: [] };
  removeOldScreenshots('browser-');
  let page: Page | undefined;
  // Why the round was cut short, if it was: the step under way then fails with this.
  let stopReason: string | undefined;
  const timer = setTimeout(() => {
    stopReason = `round timeout: not done within ${timeoutMs / 1000} s`;
    say(stopReason);
    void shoot('timeout').finally(() => scope.close());
  }, timeoutMs);
  const stopSignals = onTerminationSignal((signal) => {
    stopReason = `stopped by ${signal}`;
    result.interrupted = signal;
    say(`received ${signal}: cleaning up`);
    void scope.close();
  });

  async function shoot(name: string): Promise<void> {
    if (!page || page.isClosed()) return;
    try {
      mkdirSync(OUTPUT_DIR, { recursive: true });
      const file = join(OUTPUT_DIR, `browser-${name}.png`);
      await page.screenshot({ path: file, timeout: 10_000 });
      result.screenshots.push(file);
    } catch (err) {
      say(`no screenshot ${name}: ${errorText(err).split('\n')[0]}`);
    }
  }

  let failedAlready = false;
  async function step(name: string, fn: () => Promise<void>): Promise<void> {
    const t0 = Date.now();
    if (failedAlready) {
      result.steps.push({ name, ok: false, skipped: true, ms: 0 });
      result.skipped++;
      say(`- ${name} (skipped)`);
      return;
    }
    try {
      if (scope.closed) throw new Error(stopReason ?? 'the round was stopped');
      await fn();
      const ms = Date.now() - t0;
      result.steps.push({ name, ok: true, ms });
      result.passed++;
      say(`✔ ${name} (${ms} ms)`);
    } catch (err) {
      const ms = Date.now() - t0;
      failedAlready = true;
      // The message says what went wrong; a stack into this file adds nothing.
      const error = stopReason ?? (err instanceof Error ? err.message : String(err));
      result.steps.push({ name, ok: false, error, ms });
      result.failed++;
      say(`✘ ${name} (${ms} ms)\n${indent(error)}`);
      await shoot(`failure-${slug(name)}`);
    }
  }

  let server: CodeServer | undefined;
  let url = '';
  const fixture = join(scope.dir, 'workspace');
  try {
    await step('start code-server with the extension installed', async () => {
      const { mode, why } = chooseInstallMode();
      say(`install mode: ${mode} (${why})`);
      const profile = createProfile(scope);
      if (mode === 'vsix') {
        let vsix = process.env.NETMEM_E2E_VSIX;
        if (!vsix) {
          vsix = join(scope.dir, 'netmem-series.vsix');
          await packageVsix(scope, vsix);
        } else if (!existsSync(vsix)) {
          throw new Error(`NETMEM_E2E_VSIX names a file that does not exist: ${vsix}`);
        }
        await installExtension(scope, profile, vsix);
        const installed = join(profile.extensionsDir, 'extensions.json');
        if (!existsSync(installed)) throw new Error(`nothing was installed into ${profile.extensionsDir}`);
        say(`installed ${EXTENSION_ID} from a .vsix`);
      }
      makeFixture(fixture);
      server = await startCodeServer(scope, { profile });
      url = server.workbenchUrl(
        fixture,
        mode === 'dev' ? [['extensionDevelopmentPath', server.remoteUri(ROOT)]] : undefined,
      );
    });

    await step('the workbench opens the fixture folder and shows the C file in the explorer', async () => {
      ({ page } = await launchChromium(scope, 'browser-round'));
      await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      await page
        .locator('.explorer-folders-view .monaco-list-row', { hasText: FIXTURE_FILE })
        .first()
        .waitFor({ state: 'visible', timeout: 60_000 });
      await shoot('1-workbench');
    });

    await step(`"${PALETTE_TITLE}" runs from the command palette`, async () => {
      await runFromPalette(page!, PALETTE_TITLE, shoot);
    });

    await step('the report editor shows "Netmem environment" and the C grammar ok', async () => {
      const text = await waitForEditorText(page!, (t) => t.includes(REPORT_HEADING) && GRAMMAR_LINE.test(t), 60_000);
      if (!text) {
        const seen = await activeEditorText(page!);
        throw new Error(`no editor with "${REPORT_HEADING}" and "- C grammar (tree-sitter-c): ok" within 60 s; the active editor shows:\n${seen}`);
      }
      await shoot('3-doctor-report');
    });
  } finally {
    clearTimeout(timer);
    await scope.close();
    stopSignals();
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  }
  for (const file of result.screenshots) say(`screenshot: ${file}`);
  say(`round done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped`);
  return result;
}

/** `vsce package --no-dependencies` of the repository, output into the scope. */
async function packageVsix(scope: Scope, out: string): Promise<void> {
  const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const child = spawn(process.execPath, [vsce, 'package', '--no-dependencies', '--out', out], {
    cwd: ROOT,
    // No stdin: vsce's questions (e.g. about a missing LICENSE) get an immediate "no".
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_yes: 'false' },
  });
  scope.defer('vsce', () => child.exitCode === null && child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', resolve);
    child.once('error', (err) => ((output += err.message), resolve(null)));
  });
  if (code !== 0 || !existsSync(out)) throw new Error(`vsce package failed (exit ${code}):\n${output.trim()}`);
  const summary = /Packaged: .*/.exec(output)?.[0];
  say(summary ? summary.replace(out, 'netmem-series.vsix') : 'packaged');
}

function makeFixture(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, FIXTURE_FILE),
    [
      '// SPDX-License-Identifier: GPL-2.0',
      '#include <linux/skbuff.h>',
      '',
      'static unsigned int frag_len(const struct sk_buff *skb, int i)',
      '{',
      '\tconst skb_frag_t *frag = &skb_shinfo(skb)->frags[i];',
      '',
      '\treturn skb_frag_size(frag);',
      '}',
      '',
    ].join('\n'),
  );
}

/**
 * F1, type `>Title`, click the row whose label is exactly the title (Enter would take the best
 * fuzzy match). The palette can miss a command that was contributed a moment ago: close it and
 * try once more.
 */
async function runFromPalette(page: Page, title: string, shoot: (name: string) => Promise<void>): Promise<void> {
  for (let attempt = 1; attempt <= 2; attempt++) {
    await page.locator('.monaco-workbench').click({ position: { x: 700, y: 5 }, timeout: 5_000 }).catch(() => {});
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${title}`);
    const row = await exactRow(page, title, 10_000);
    if (row !== undefined) {
      await shoot('2-palette');
      await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').nth(row).click({ timeout: 5_000 });
      return;
    }
    const labels = await rowLabels(page);
    say(`palette attempt ${attempt}: no row labelled "${title}" (rows: ${labels.map((l) => JSON.stringify(l)).join(', ') || 'none'})`);
    await page.keyboard.press('Escape');
    await sleep(1_500);
  }
  throw new Error(`the command palette has no row labelled exactly "${title}" (tried twice)`);
}

async function rowLabels(page: Page): Promise<string[]> {
  return page.$$eval('.quick-input-widget .quick-input-list .monaco-list-row', (rows) =>
    rows.map((r) => (r.querySelector('.label-name')?.textContent ?? '').replace(/\u00a0/g, ' ').trim()),
  );
}

/** Index (among the rendered rows) of the row whose label equals `title`, waiting up to `ms`. */
async function exactRow(page: Page, title: string, ms: number): Promise<number | undefined> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const index = (await rowLabels(page)).indexOf(title);
    if (index >= 0) return index;
    await sleep(200);
  }
  return undefined;
}

/** The text of the active editor as rendered (its visible lines, in order). */
async function activeEditorText(page: Page): Promise<string> {
  const lines = await page
    .locator('.editor-group-container.active .editor-instance .monaco-editor .view-lines .view-line')
    .evaluateAll((els) => els.map((e) => ({ style: e.getAttribute('style') ?? '', text: e.textContent ?? '' })));
  return lines
    .map((l) => ({ top: Number(/top:\s*(-?[\d.]+)px/.exec(l.style)?.[1] ?? 0), text: l.text.replace(/\u00a0/g, ' ') }))
    .sort((a, b) => a.top - b.top)
    .map((l) => l.text)
    .join('\n');
}

async function waitForEditorText(page: Page, ok: (text: string) => boolean, ms: number): Promise<string | undefined> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const text = await activeEditorText(page);
    if (ok(text)) return text;
    const error = await visibleError(page);
    if (error) throw new Error(`the workbench shows an error instead: ${error}`);
    await sleep(250);
  }
  return undefined;
}

/** The text of an error dialog or error notification on screen, if any (a failed command shows one). */
async function visibleError(page: Page): Promise<string | undefined> {
  const texts = await page
    .locator('.monaco-dialog-box, .notifications-toasts .notification-toast:has(.codicon-error)')
    .evaluateAll((els) => els.map((e) => (e.textContent ?? '').replace(/\u00a0/g, ' ').replace(/\s+/g, ' ').trim()));
  return texts.find((t) => t.length > 0);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

if (require.main === module) {
  runBrowserRound().then(
    (r) => {
      process.stdout.write(`${r.passed} passed, ${r.failed} failed\n`);
      process.exit(r.interrupted ? SIGNAL_EXIT[r.interrupted] : r.failed > 0 ? 1 : 0);
    },
    (err) => {
      say(`fatal: ${errorText(err)}`);
      process.exit(1);
    },
  );
}
