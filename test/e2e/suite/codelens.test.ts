// What the extension shows about the series in the linked checkout, in the real extension host on
// the kernel workspace, before and after "Netmem: Apply netmem series": the Series view's per-patch
// status (clean → applied), the status bar item ("linux-… · 6.1.192 · series 0/3 → 3/3 applied"),
// and the CodeLens "netmem n/M: subject" on the lines each applied patch added (none on files the
// series does not touch, none with netmem.codeLens.enable off). Every expectation comes from the
// patch files and the workspace Makefile. The workspace goes back to branch `base` afterwards.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { addedLines, bundled, extension, patchNodes, tree, waitFor, type PatchFacts } from './seriesFacts';

const REVEAL = 'netmem.series.revealPatch';

function workspaceDir(): string {
  const dir = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert.ok(dir, 'the e2e suite has no workspace folder');
  return dir;
}

const git = (dir: string, ...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** "6.1.192" from the workspace Makefile's VERSION, PATCHLEVEL, SUBLEVEL and EXTRAVERSION. */
function makefileVersion(dir: string): string {
  const head = readFileSync(join(dir, 'Makefile'), 'utf8').split('\n').slice(0, 20).join('\n');
  const field = (name: string) => new RegExp(`^${name} = ?(.*)$`, 'm').exec(head)?.[1]?.trim();
  const [v, p, s, e] = ['VERSION', 'PATCHLEVEL', 'SUBLEVEL', 'EXTRAVERSION'].map(field);
  assert.ok(v && p && s, `the workspace Makefile has no VERSION/PATCHLEVEL/SUBLEVEL:\n${head}`);
  return `${v}.${p}${s === '0' ? '' : `.${s}`}${e ?? ''}`;
}

const statusText = () => vscode.commands.executeCommand<string>('netmem.kernel.statusText');

async function statusBarSays(dir: string, applied: number, total: number): Promise<void> {
  const want = `$(git-branch) ${basename(dir)} · ${makefileVersion(dir)} · series ${applied}/${total} applied`;
  let last: string | undefined;
  await waitFor(`the status bar to say "${want}"`, async () => (last = await statusText()) === want).catch(() => assert.equal(last, want, 'the status bar item text'));
}

/** Waits until every patch of the Series view has the status `state`, then checks its icon too. */
async function viewSays(state: string, icon: string, total: number): Promise<void> {
  let shown: string[] = [];
  const done = await waitFor(`every patch to be ${state} in the Series view`, async () => {
    const patches = patchNodes(await tree());
    shown = patches.map((p) => `${p.label}: ${p.contextValue}`);
    return patches.length === total && patches.every((p) => p.contextValue === `patch.${state}`) && patches;
  }).catch(() => assert.fail(`not every patch is ${state} in the Series view:\n${shown.join('\n')}`));
  for (const p of done) assert.ok(p.tooltip?.includes(`$(${icon})`), `the tooltip of "${p.label}" does not show the ${icon} icon: ${p.tooltip}`);
}

interface Lens {
  line: number;
  title: string;
  args: unknown[];
}

/** The extension's lenses on a workspace file, in line order. */
async function lenses(dir: string, path: string): Promise<Lens[]> {
  const uri = vscode.Uri.file(join(dir, path));
  await vscode.workspace.openTextDocument(uri);
  const all = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
  return all
    .filter((l) => l.command?.command === REVEAL)
    .map((l) => ({ line: l.range.start.line, title: l.command!.title, args: l.command!.arguments ?? [] }))
    .sort((a, b) => a.line - b.line);
}

/** Polls the lenses of `path` until they are `want`, then asserts (with the last answer) they are. */
async function lensesBecome(dir: string, path: string, want: Lens[], timeoutMs = 20_000): Promise<void> {
  let got: Lens[] = [];
  await waitFor(`the CodeLenses of ${path}`, async () => JSON.stringify((got = await lenses(dir, path))) === JSON.stringify(want), timeoutMs).catch(() => undefined);
  assert.deepEqual(got, want, `CodeLenses of ${path}`);
}

/**
 * The lenses the series should put on each file it touches, where no other patch touches that file
 * (so the patch's new-side line numbers are the checkout's): one per hunk that adds lines, on the
 * hunk's first added line (0-based), titled with the patch's index and subject.
 */
function expectedLenses(patches: PatchFacts[]): Map<string, { patch: number; lenses: Lens[]; texts: string[] }> {
  const touched = new Map<string, number[]>();
  patches.forEach((p, i) => p.files.forEach((f) => touched.set(f.path, [...(touched.get(f.path) ?? []), i])));
  const out = new Map<string, { patch: number; lenses: Lens[]; texts: string[] }>();
  for (const [path, by] of touched) {
    if (by.length !== 1) continue;
    const p = patches[by[0]!]!;
    const index = by[0]! + 1;
    const title = `netmem ${index}/${patches.length}: ${p.subject}`;
    const firsts = p.files
      .filter((f) => f.path === path)
      .flatMap((f) => f.hunks.map((h) => addedLines(h)[0]))
      .filter((a) => a !== undefined);
    out.set(path, { patch: index, lenses: firsts.map((a) => ({ line: a.line - 1, title, args: [index] })), texts: firsts.map((a) => a.text) });
  }
  return out;
}

suite('netmem series state on the base checkout', () => {
  suiteSetup(async function () {
    this.timeout(60_000);
    await extension().activate();
    await vscode.commands.executeCommand('netmem.openSeries', null);
    const dir = workspaceDir();
    assert.equal(git(dir, 'rev-parse', 'HEAD'), git(dir, 'rev-parse', 'netmem-base^{commit}'), 'the workspace is not at the base');
  });

  test('the Series view shows every patch as applying cleanly', async () => {
    await viewSays('clean', 'circle-large-outline', bundled().patches.length);
  });

  test('the status bar names the checkout and its version and says no patch is applied', async () => {
    await statusBarSays(workspaceDir(), 0, bundled().patches.length);
  });

  test('no CodeLens on the files the series touches', async () => {
    const dir = workspaceDir();
    await viewSays('clean', 'circle-large-outline', bundled().patches.length);
    // Files a patch creates (include/net/netmem.h) are not there yet.
    const present = [...expectedLenses(bundled().patches).keys()].filter((p) => existsSync(join(dir, p)));
    assert.ok(present.length > 0, 'the base has none of the files the series changes');
    for (const path of present) assert.deepEqual(await lenses(dir, path), [], `CodeLenses of ${path} before applying`);
  });
});

suite('netmem series state after applying the series', () => {
  let dir: string;
  let branch: string | undefined;
  let codeLensSetting: boolean | undefined;

  suiteSetup(async function () {
    this.timeout(180_000);
    await extension().activate();
    await vscode.commands.executeCommand('netmem.openSeries', null);
    dir = workspaceDir();
    codeLensSetting = vscode.workspace.getConfiguration('netmem').inspect<boolean>('codeLens.enable')?.globalValue;
    assert.equal(git(dir, 'status', '--porcelain', '--untracked-files=no'), '', 'the e2e workspace has uncommitted changes');
    const outcome = await vscode.commands.executeCommand<{ kind: string; branch?: string } | undefined>('netmem.applySeries');
    branch = outcome?.branch;
    assert.equal(outcome?.kind, 'applied', `apply: ${JSON.stringify(outcome)}`);
    assert.equal(git(dir, 'rev-list', '--count', 'netmem-base..HEAD'), String(bundled().patches.length));
  });

  suiteTeardown(async function () {
    this.timeout(60_000);
    await vscode.workspace.getConfiguration('netmem').update('codeLens.enable', codeLensSetting, vscode.ConfigurationTarget.Global);
    if (!dir) return;
    git(dir, 'checkout', '-q', '-f', 'base');
    if (branch && branch !== 'base') git(dir, 'branch', '-q', '-D', branch);
    // Let the status follow HEAD back, so the next test file starts from the base as it found it.
    await statusBarSays(dir, 0, bundled().patches.length).catch(() => undefined);
  });

  test('the Series view shows every patch as applied', async () => {
    await viewSays('applied', 'pass-filled', bundled().patches.length);
  });

  test('the status bar says every patch is applied, on the Makefile version', async () => {
    await statusBarSays(dir, bundled().patches.length, bundled().patches.length);
  });

  test('a CodeLens names the patch on the first line each of its hunks added', async () => {
    const { patches } = bundled();
    const expected = expectedLenses(patches);
    // The series' first two patches each touch files no other patch does (ipoib_tx.c, netmem.h, …).
    for (const index of [1, 2]) assert.ok([...expected.values()].some((e) => e.patch === index && e.lenses.length > 0), `no file only patch ${index} adds lines to`);
    for (const [path, want] of expected) {
      await lensesBecome(dir, path, want.lenses);
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(dir, path)));
      want.lenses.forEach((l, i) => assert.equal(doc.lineAt(l.line).text, want.texts[i], `${path}:${l.line + 1} is not the line the patch added`));
    }
  });

  test('no CodeLens on a file the series does not touch', async () => {
    const { patches } = bundled();
    const [path, want] = [...expectedLenses(patches)][0]!;
    await lensesBecome(dir, path, want.lenses);
    const untouched = ['Makefile', 'net/core/dev.c', 'include/linux/netdevice.h'];
    for (const p of untouched) {
      assert.ok(!patches.some((x) => x.files.some((f) => f.path === p)), `${p} is in the series`);
      assert.deepEqual(await lenses(dir, p), [], `CodeLenses of ${p}`);
    }
  });

  test('netmem.codeLens.enable false hides them, true brings them back', async () => {
    const [path, want] = [...expectedLenses(bundled().patches)][0]!;
    await lensesBecome(dir, path, want.lenses);
    const config = () => vscode.workspace.getConfiguration('netmem');
    await config().update('codeLens.enable', false, vscode.ConfigurationTarget.Global);
    try {
      await lensesBecome(dir, path, []);
    } finally {
      await config().update('codeLens.enable', true, vscode.ConfigurationTarget.Global);
    }
    await lensesBecome(dir, path, want.lenses);
  });
});
