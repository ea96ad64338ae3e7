// What a user sees and does in code-server's workbench, through the DOM: the command palette,
// quick open, the active editor's text, squiggles, notifications, the Problems panel, the code
// action menu, tree views. Every reader returns rendered text (never what the extension logged).
import type { Locator, Page } from 'playwright-core';
import { sleep } from './scope';

const QUICK_INPUT = '.quick-input-widget';
const QUICK_ROWS = `${QUICK_INPUT} .quick-input-list .monaco-list-row`;
const ACTIVE_EDITOR = '.editor-group-container.active .editor-instance .monaco-editor';

/** Text as rendered: non-breaking spaces as spaces, runs of white space as one. */
export const flat = (text: string | null | undefined): string => (text ?? '').replace(/\u00a0/g, ' ').replace(/\s+/g, ' ').trim();

/** Polls `probe` until it returns a value (not undefined) or `ms` pass; fails early on an error on screen. */
export async function waitUntil<T>(page: Page, ms: number, probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    const error = await visibleError(page);
    if (error) throw new Error(`the workbench shows an error: ${error}`);
    if (Date.now() > deadline) return undefined;
    await sleep(250);
  }
}

/**
 * Clicks an empty spot of the title bar (left of the navigation arrows and the command center) so
 * that keyboard input goes to the workbench; the mouse stays there, where it raises no tooltip.
 */
async function focusWorkbench(page: Page): Promise<void> {
  await page.locator('.monaco-workbench').click({ position: { x: 200, y: 16 }, timeout: 5_000 }).catch(() => {});
}

/**
 * F1, type `>Title`, click the row whose label is exactly the title (Enter would take the best
 * fuzzy match). The palette can miss a command that was contributed a moment ago: close it and
 * try once more. `beforeClick` runs with the row on screen (e.g. a screenshot).
 */
export async function runFromPalette(page: Page, title: string, beforeClick?: () => Promise<void>): Promise<void> {
  let labels: string[] = [];
  for (let attempt = 1; attempt <= 2; attempt++) {
    await focusWorkbench(page);
    await page.keyboard.press('F1');
    const input = page.locator(`${QUICK_INPUT} .quick-input-box input`);
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${title}`);
    const row = await quickRow(page, (label) => label === title, 10_000);
    if (row) {
      await beforeClick?.();
      await row.click({ timeout: 5_000 });
      return;
    }
    labels = await quickLabels(page);
    await page.keyboard.press('Escape');
    await sleep(1_500);
  }
  throw new Error(
    `the command palette has no row labelled exactly "${title}" (tried twice; rows: ${labels.map((l) => JSON.stringify(l)).join(', ') || 'none'})`,
  );
}

/** Labels of the rows of the open quick input (palette, quick open, quick pick). */
export async function quickLabels(page: Page): Promise<string[]> {
  return page.$$eval(QUICK_ROWS, (rows) => rows.map((r) => (r.querySelector('.label-name')?.textContent ?? '').replace(/\u00a0/g, ' ').trim()));
}

/** Whole text of each row of the open quick input (label, description, detail). */
export async function quickRowTexts(page: Page): Promise<string[]> {
  return (await page.locator(QUICK_ROWS).allTextContents()).map(flat);
}

/** The first row of the open quick input whose label satisfies `match`, waiting up to `ms`. */
export async function quickRow(page: Page, match: (label: string, text: string) => boolean, ms: number): Promise<Locator | undefined> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const labels = await quickLabels(page);
    const texts = await quickRowTexts(page);
    const index = labels.findIndex((l, i) => match(l, texts[i] ?? ''));
    if (index >= 0) return page.locator(QUICK_ROWS).nth(index);
    await sleep(200);
  }
  return undefined;
}

/** Quick open (Ctrl+P): types `name` and opens the row whose label is `name` and whose path contains `dir`. */
export async function quickOpen(page: Page, name: string, dir: string): Promise<void> {
  await focusWorkbench(page);
  await page.keyboard.press('Control+P');
  const input = page.locator(`${QUICK_INPUT} .quick-input-box input`);
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(name);
  const row = await quickRow(page, (label, text) => label === name && text.includes(dir), 30_000);
  if (!row) throw new Error(`quick open has no row "${name}" in ${dir} (rows: ${(await quickRowTexts(page)).join(' | ') || 'none'})`);
  await row.click({ timeout: 5_000 });
  await page.locator(`.tab.active[aria-label^="${name}"]`).first().waitFor({ state: 'visible', timeout: 15_000 });
}

/** Go to Line (Ctrl+G). */
export async function goToLine(page: Page, line: number): Promise<void> {
  await page.locator(ACTIVE_EDITOR).first().click({ position: { x: 200, y: 100 }, timeout: 5_000 });
  await page.keyboard.press('Control+G');
  const input = page.locator(`${QUICK_INPUT} .quick-input-box input`);
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`:${line}`);
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: 5_000 });
}

/** The visible lines of the active editor, in order, as rendered. */
export async function activeEditorLines(page: Page): Promise<string[]> {
  const lines = await page
    .locator(`${ACTIVE_EDITOR} .view-lines .view-line`)
    .evaluateAll((els) => els.map((e) => ({ style: e.getAttribute('style') ?? '', text: e.textContent ?? '' })));
  return lines
    .map((l) => ({ top: Number(/top:\s*(-?[\d.]+)px/.exec(l.style)?.[1] ?? 0), text: l.text.replace(/\u00a0/g, ' ') }))
    .sort((a, b) => a.top - b.top)
    .map((l) => l.text);
}

export async function activeEditorText(page: Page): Promise<string> {
  return (await activeEditorLines(page)).join('\n');
}

/** Warning and error squiggles drawn in the active editor. */
export function squiggles(page: Page): Locator {
  return page.locator(`${ACTIVE_EDITOR} .view-overlays .squiggly-warning, ${ACTIVE_EDITOR} .view-overlays .squiggly-error`);
}

/** Texts of the notification toasts on screen. */
export async function notificationTexts(page: Page): Promise<string[]> {
  // innerText: what is rendered (a toast also holds a <style> element, whose text textContent includes).
  return (await page.locator('.notifications-toasts .notification-toast').allInnerTexts()).map(flat).filter(Boolean);
}

/** Waits for a toast whose text matches `re`; returns its text. */
export async function waitForNotification(page: Page, re: RegExp, ms: number): Promise<string | undefined> {
  return waitUntil(page, ms, async () => (await notificationTexts(page)).find((t) => re.test(t)));
}

/** Closes every toast (they pile up over the screenshots), as a user would: from the palette. */
export async function clearNotifications(page: Page): Promise<void> {
  if ((await page.locator('.notifications-toasts .notification-toast').count()) === 0) return;
  await runFromPalette(page, 'Notifications: Clear All Notifications');
  await page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => {});
}

/** The text of an error dialog or error notification on screen, if any (a failed command shows one). */
export async function visibleError(page: Page): Promise<string | undefined> {
  const texts = await page
    .locator('.monaco-dialog-box, .notifications-toasts .notification-toast:has(.codicon-error)')
    .evaluateAll((els) => els.map((e) => ((e as unknown as { innerText?: string }).innerText ?? '').replace(/\u00a0/g, ' ').replace(/\s+/g, ' ').trim()));
  return texts.find((t) => t.length > 0);
}

/** Opens the Problems panel (Ctrl+Shift+M) and returns the texts of its rows. */
export async function showProblems(page: Page): Promise<void> {
  if (await page.locator('.markers-panel').isVisible()) return;
  await focusWorkbench(page);
  await page.keyboard.press('Control+Shift+M');
  await page.locator('.markers-panel').waitFor({ state: 'visible', timeout: 10_000 });
}

export function problemRows(page: Page): Locator {
  return page.locator('.markers-panel .monaco-list-row');
}

export async function problemTexts(page: Page): Promise<string[]> {
  return (await problemRows(page).allInnerTexts()).map(flat);
}

/** Rows of the code action menu (Ctrl+.), as rendered. */
export function actionRows(page: Page): Locator {
  return page.locator('.action-widget .monaco-list-row.action');
}

/** Moves the focus in the code action menu (arrow keys) to the first row whose text matches. */
export async function focusActionRow(page: Page, match: (text: string) => boolean): Promise<void> {
  const texts = (await actionRows(page).allTextContents()).map(flat);
  const want = texts.findIndex(match);
  if (want < 0) throw new Error(`no row in the code action menu matches (rows: ${texts.join(' | ') || 'none'})`);
  for (let i = 0; i <= texts.length; i++) {
    const focused = (await page.locator('.action-widget .monaco-list-row.action.focused').allTextContents()).map(flat)[0];
    if (focused !== undefined && match(focused)) return;
    await page.keyboard.press('ArrowDown');
  }
  throw new Error(`could not move the focus to row ${want + 1} of the code action menu (rows: ${texts.join(' | ')})`);
}

/** Rows of the tree views in the side bar. */
export function sideBarRows(page: Page): Locator {
  return page.locator('.part.sidebar .monaco-list-row');
}

export async function sideBarTexts(page: Page): Promise<string[]> {
  return (await sideBarRows(page).allInnerTexts()).map(flat);
}
