// The browser round: the extension used as a user would, through code-server's UI in headless
// chromium, on a copy of the pinned base checkout (lib/kernel.ts) opened as the workspace folder:
//   1. the workbench opens the kernel folder;
//   2. drivers/infiniband/hw/hfi1/ipoib_tx.c (on the base it reads `frag->bv_offset` at line 220)
//      shows a netmem squiggle and a Problems entry;
//   3. the quick fix from the code action menu (Ctrl+.) rewrites it to the helper, the squiggle and
//      the Problems entry go; "File: Revert File" then drops the unsaved edit (the tree stays
//      clean, as apply requires);
//   4. "Netmem: Apply netmem series" from the palette: the notification says the 3 patches applied;
//   5. "Netmem: Run kernel tests", suite compile: the notification says it passed;
//   6. the Netmem Series view lists the cover letter and the patches; a patch expands to its files.
// Each step asserts on what is on screen (notification text, squiggles, Problems rows, editor
// lines, tree rows) and leaves a screenshot in .test-output/e2e/ (a failure always leaves one).
// NETMEM_E2E_UPDATE_SCREENSHOTS=1 also copies the README's screenshots to media/screenshots/ when
// every step passed.
//
// How the extension gets in (NETMEM_E2E_INSTALL):
//   vsix  package the repository as `npm run package` does (scripts/package.mjs) and install the .vsix with
//         `code-server --install-extension` into the server's fresh extensions dir: this tests
//         what users install (manifest, .vscodeignore, shipped wasm files);
//   dev   load the repository as a development extension (payload extensionDevelopmentPath);
//   auto  (default) vsix when the repository has what vsce needs (a LICENSE and a .vscodeignore,
//         without which vsce asks about the licence or packs the whole tree), otherwise dev with a
//         notice.
// NETMEM_E2E_VSIX=/abs/x.vsix installs that package instead of packaging one (e.g. the artefact of
// `npm run package`, dist/netmem-series.vsix).
//
// Run alone: node --import tsx test/e2e/browser.ts   (after npm run build and scripts/setup-e2e.sh;
// under flock /tmp/netmem-e2e.lock). It then makes its own kernel workspace.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from './lib/chromium';
import { createProfile, installExtension, startCodeServer, type CodeServer } from './lib/codeServer';
import { kernelEnv, makeKernelWorkspace, type KernelWorkspace } from './lib/kernel';
import { EXTENSION_ID, OUTPUT_DIR, ROOT } from './lib/paths';
import { errorText, onTerminationSignal, removeOldScreenshots, Scope, SIGNAL_EXIT, sleep } from './lib/scope';
import { packageVsix } from './lib/vsix';
import * as wb from './lib/workbench';

/** The file with a violation on the base that patch 1 of the series fixes. */
const VIOLATION = { name: 'ipoib_tx.c', dir: 'drivers/infiniband/hw/hfi1', line: 220, before: 'frag->bv_offset', helper: 'skb_frag_off' };
const APPLY_TITLE = 'Netmem: Apply netmem series';
const RUN_TESTS_TITLE = 'Netmem: Run kernel tests';
const REVERT_TITLE = 'File: Revert File';
const SERIES_CONTAINER = 'Netmem Series';
/** Screenshots the README shows: .test-output/e2e/browser-<key>.png → media/screenshots/<value>. */
const README_SHOTS: Record<string, string> = {
  '2-diagnostics': 'diagnostics.png',
  '3-quick-fix': 'quick-fix.png',
  '5-apply': 'apply.png',
  '6-run-tests': 'run-tests.png',
  '7-series-view': 'series-view.png',
};
const VIEWPORT = { width: 1280, height: 800 };

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
export async function runBrowserRound(options: { timeoutMs?: number; workspace?: KernelWorkspace } = {}): Promise<BrowserRoundResult> {
  const timeoutMs = options.timeoutMs ?? 420_000;
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
      // Let toasts and widgets finish their entry animation.
      await sleep(400);
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
  let ws = options.workspace;
  const p = () => page!;
  try {
    await step('start code-server with the extension installed', async () => {
      const { mode, why } = chooseInstallMode();
      say(`install mode: ${mode} (${why})`);
      ws ??= await makeKernelWorkspace(scope, say);
      // No minimap: the screenshots show the code, and stay small.
      const profile = createProfile(scope, kernelEnv(ws), { 'editor.minimap.enabled': false });
      if (mode === 'vsix') {
        let vsix = process.env.NETMEM_E2E_VSIX;
        if (!vsix) {
          vsix = join(scope.dir, 'netmem-series.vsix');
          say((await packageVsix(scope, vsix)).replace(vsix, 'netmem-series.vsix'));
        } else if (!existsSync(vsix)) {
          throw new Error(`NETMEM_E2E_VSIX names a file that does not exist: ${vsix}`);
        }
        await installExtension(scope, profile, vsix);
        const installed = join(profile.extensionsDir, 'extensions.json');
        if (!existsSync(installed)) throw new Error(`nothing was installed into ${profile.extensionsDir}`);
        say(`installed ${EXTENSION_ID} from a .vsix`);
      }
      server = await startCodeServer(scope, { profile });
      url = server.workbenchUrl(ws.kernel, mode === 'dev' ? [['extensionDevelopmentPath', server.remoteUri(ROOT)]] : undefined);
    });

    await step('the workbench opens the kernel checkout (explorer: drivers, include, net)', async () => {
      ({ page } = await launchChromium(scope, 'browser-round', VIEWPORT));
      await p().goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
      await p().locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      const rows = await wb.waitUntil(p(), 60_000, async () => {
        const texts = (await p().locator('.explorer-folders-view .monaco-list-row').allTextContents()).map(wb.flat);
        return ['drivers', 'include', 'net'].every((d) => texts.includes(d)) ? texts : undefined;
      });
      if (!rows) throw new Error('the explorer does not show the kernel folders drivers, include and net within 60 s');
      await shoot('1-workbench');
    });

    const { name, dir, line, before, helper } = VIOLATION;
    await step(`${name} on the base: a netmem squiggle and a Problems entry at line ${line}`, async () => {
      await wb.quickOpen(p(), name, dir);
      await wb.goToLine(p(), line);
      const seen = await wb.waitUntil(p(), 30_000, async () => ((await wb.activeEditorText(p())).includes(before) ? true : undefined));
      if (!seen) throw new Error(`the editor of ${name} does not show "${before}" around line ${line}`);
      const squiggle = await wb.waitUntil(p(), 30_000, async () => ((await wb.squiggles(p()).count()) > 0 ? true : undefined));
      if (!squiggle) throw new Error(`no squiggle in ${name} within 30 s (the checker did not flag "${before}" at line ${line})`);
      await wb.showProblems(p());
      const entry = await wb.waitUntil(p(), 20_000, async () =>
        (await wb.problemTexts(p())).find((t) => t.includes('bv_offset') && t.includes(`Ln ${line}`)),
      );
      if (!entry) throw new Error(`the Problems panel has no entry for bv_offset at Ln ${line}; rows: ${(await wb.problemTexts(p())).join(' | ') || 'none'}`);
      say(`Problems: ${entry}`);
      await shoot('2-diagnostics');
    });

    await step(`the quick fix (Ctrl+.) rewrites it to ${helper}(); the squiggle and the Problems entry go`, async () => {
      // Click into the squiggled code, then Ctrl+. (the editor's code action menu).
      const box = await wb.squiggles(p()).first().boundingBox();
      if (!box) throw new Error('the squiggle is not on screen');
      await p().mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await sleep(300);
      await p().keyboard.press('Control+Period');
      const found = await wb.waitUntil(p(), 15_000, async () => {
        const texts = (await wb.actionRows(p()).allTextContents()).map(wb.flat);
        const index = texts.findIndex((t) => t.includes(helper));
        return index >= 0 ? index : undefined;
      });
      if (found === undefined) {
        const texts = (await wb.actionRows(p()).allTextContents()).map(wb.flat);
        throw new Error(`the code action menu has no quick fix mentioning ${helper}() (actions: ${texts.join(' | ') || 'none'})`);
      }
      await shoot('3-quick-fix');
      // The menu takes clicks only after the mouse moved over it; Enter applies the focused row.
      await wb.focusActionRow(p(), (t) => t.includes(helper));
      await p().keyboard.press('Enter');
      const fixed = await wb.waitUntil(p(), 15_000, async () => {
        const text = await wb.activeEditorText(p());
        return !text.includes(before) && text.includes(`${helper}(frag)`) ? true : undefined;
      });
      if (!fixed) throw new Error(`after the quick fix the editor still shows "${before}" (or not ${helper}(frag)):\n${await wb.activeEditorText(p())}`);
      const gone = await wb.waitUntil(p(), 20_000, async () => {
        const problems = await wb.problemTexts(p());
        return (await wb.squiggles(p()).count()) === 0 && !problems.some((t) => t.includes('bv_offset')) ? true : undefined;
      });
      if (!gone) {
        throw new Error(`the squiggle or the Problems entry is still there after the fix (squiggles: ${await wb.squiggles(p()).count()}; Problems: ${(await wb.problemTexts(p())).join(' | ')})`);
      }
      await shoot('4-fixed');
    });

    await step(`"${REVERT_TITLE}" drops the unsaved fix (the checkout stays clean for apply)`, async () => {
      await wb.runFromPalette(p(), REVERT_TITLE);
      const back = await wb.waitUntil(p(), 15_000, async () => ((await wb.activeEditorText(p())).includes(before) ? true : undefined));
      if (!back) throw new Error(`the editor does not show "${before}" again after ${REVERT_TITLE}`);
      if (await p().locator('.tab.active.dirty').count()) throw new Error(`${name} is still marked modified after ${REVERT_TITLE}`);
    });

    await step(`"${APPLY_TITLE}" from the palette: the notification says 3 patches applied`, async () => {
      await wb.clearNotifications(p());
      await wb.runFromPalette(p(), APPLY_TITLE, () => shoot('5-palette'));
      const text = await wb.waitForNotification(p(), /Applied 3 patches/, 90_000);
      if (!text) {
        throw new Error(`no notification "Applied 3 patches…" within 90 s; notifications: ${(await wb.notificationTexts(p())).join(' | ') || 'none'}`);
      }
      say(`notification: ${text}`);
      // Patch 1 fixed the file on disk; the open editor follows.
      const followed = await wb.waitUntil(p(), 15_000, async () => ((await wb.activeEditorText(p())).includes(`${helper}(frag)`) ? true : undefined));
      if (!followed) throw new Error(`after apply the editor of ${name} does not show ${helper}(frag) (patch 1 changes that line)`);
      await shoot('5-apply');
    });

    await step(`"${RUN_TESTS_TITLE}", suite compile: the notification says PASSED`, async () => {
      await wb.clearNotifications(p());
      await wb.runFromPalette(p(), RUN_TESTS_TITLE);
      const row = await wb.quickRow(p(), (label) => label === 'compile', 15_000);
      if (!row) throw new Error(`"${RUN_TESTS_TITLE}" offers no suite "compile" (rows: ${(await wb.quickRowTexts(p())).join(' | ') || 'none'})`);
      await row.click({ timeout: 5_000 });
      const verdict = await wb.waitUntil(p(), 300_000, async () =>
        (await wb.notificationTexts(p())).find((t) => /Netmem: compile (PASSED|FAILED)/.test(t)),
      );
      if (!verdict) throw new Error(`no notification "Netmem: compile PASSED/FAILED …" within 300 s; notifications: ${(await wb.notificationTexts(p())).join(' | ') || 'none'}`);
      say(`notification: ${verdict}`);
      const m = /PASSED \((\d+) passed, 0 failed/.exec(verdict);
      if (!m || Number(m[1]) === 0) throw new Error(`the compile suite did not pass: ${verdict}`);
      await shoot('6-run-tests');
    });

    await step('the Netmem Series view lists the cover letter and the 3 patches; a patch expands to its files', async () => {
      await wb.clearNotifications(p());
      const series = bundledSeries();
      const subjects = series.map((s) => s.subject);
      await p().locator(`.part.activitybar [aria-label^="${SERIES_CONTAINER}"]`).first().click({ timeout: 10_000 });
      const rows = await wb.waitUntil(p(), 20_000, async () => {
        const texts = await wb.sideBarTexts(p());
        return subjects.every((s) => texts.some((t) => t.includes(s))) ? texts : undefined;
      });
      if (!rows) {
        throw new Error(`the ${SERIES_CONTAINER} view does not list ${subjects.map((s) => JSON.stringify(s)).join(', ')}; rows: ${(await wb.sideBarTexts(p())).join(' | ') || 'none'}`);
      }
      // Patch 2 adds include/net/netmem.h: its row expands to that file.
      const patch = series[1]!;
      const patchRow = wb.sideBarRows(p()).filter({ hasText: patch.subject }).first();
      if ((await patchRow.getAttribute('aria-expanded')) !== 'true') await patchRow.click({ timeout: 5_000 });
      const files = await wb.waitUntil(p(), 15_000, async () => {
        const texts = await wb.sideBarTexts(p());
        return patch.files.every((f) => texts.some((t) => t.includes(f))) ? texts : undefined;
      });
      if (!files) throw new Error(`expanding "${patch.subject}" shows no rows for ${patch.files.join(', ')}; rows: ${(await wb.sideBarTexts(p())).join(' | ')}`);
      await shoot('7-series-view');
    });
  } finally {
    clearTimeout(timer);
    await scope.close();
    stopSignals();
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  }
  for (const file of result.screenshots) say(`screenshot: ${file}`);
  if (process.env.NETMEM_E2E_UPDATE_SCREENSHOTS === '1') updateReadmeScreenshots(result);
  say(`round done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped`);
  return result;
}

/** The bundled series' patches (in `patches/series` order): subject without "[PATCH n/m]", files. */
function bundledSeries(): Array<{ subject: string; files: string[] }> {
  const dir = join(ROOT, 'patches');
  const names = readFileSync(join(dir, 'series'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  return names.map((file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const header = text.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
    const subject = /^Subject: (.*)$/m.exec(header)?.[1];
    if (!subject) throw new Error(`patches/${file} has no Subject header`);
    const files = [...text.matchAll(/^diff --git a\/\S+ b\/(\S+)$/gm)].map((m) => m[1]!);
    return { subject: subject.replace(/^\[[^\]]*\]\s*/, '').trim(), files };
  });
}

/** Copies the README's screenshots to media/screenshots/, only from a round where every step passed. */
function updateReadmeScreenshots(result: BrowserRoundResult): void {
  if (result.failed > 0 || result.skipped > 0) {
    say('media/screenshots/ not updated: the round did not pass');
    return;
  }
  const dest = join(ROOT, 'media', 'screenshots');
  mkdirSync(dest, { recursive: true });
  for (const [key, name] of Object.entries(README_SHOTS)) {
    copyFileSync(join(OUTPUT_DIR, `browser-${key}.png`), join(dest, name));
    say(`media/screenshots/${name} updated`);
  }
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
