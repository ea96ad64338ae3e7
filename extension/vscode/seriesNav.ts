// Moving through the series from anywhere: next/previous hunk, the cover letter, a patch as mbox on
// the clipboard, and a CodeLens on the checkout's lines an applied patch wrote ("netmem 2/3: …").
import { isAbsolute, relative } from 'node:path';
import * as vscode from 'vscode';
import type { Patch, Series } from '../core/series/model';
import { changedLines, diffStat, hunkOrder, patchLabel, stepHunk, type ChangedLine } from '../core/series/navigate';
import { appliedPatches, currentSeries, hunkNode, lastOpenedHunk, onDidChangeSeriesView, openCoverLetter, openHunk, patchNodeOf, revealNode, type Node } from './seriesView';
import { kernelDir } from './workspace';

async function step(direction: 1 | -1): Promise<string | undefined> {
  const series = await currentSeries();
  const ref = series && stepHunk(hunkOrder(series), lastOpenedHunk(), direction);
  if (!ref) {
    void vscode.window.showInformationMessage('Netmem: no series hunks to move through (see the Series view).');
    return undefined;
  }
  await openHunk(ref);
  await revealNode(hunkNode(ref));
  return ref.key;
}

async function pickPatch(series: Series, title: string): Promise<Patch | undefined> {
  const items = series.patches.map((patch) => ({ label: patchLabel(patch), description: diffStat(patch.added, patch.removed), patch }));
  return (await vscode.window.showQuickPick(items, { title, matchOnDescription: true }))?.patch;
}

/** Copies a patch (the view's node, an index, or picked) to the clipboard as an mbox message. */
async function copyPatchAsMbox(arg?: Node | number): Promise<number | undefined> {
  const series = await currentSeries();
  if (!series) {
    void vscode.window.showWarningMessage('Netmem: the series is not loaded (see the Series view).');
    return undefined;
  }
  let patch: Patch | undefined;
  if (typeof arg === 'number') patch = series.patches.find((p) => p.index === arg);
  else if (arg?.kind === 'patch') patch = arg.patch;
  else patch = await pickPatch(series, 'Netmem: copy patch as mbox');
  if (!patch) return undefined;
  await vscode.env.clipboard.writeText(patch.raw);
  void vscode.window.showInformationMessage(`Netmem: copied "${patchLabel(patch)}" as mbox (${patch.raw.length} bytes).`);
  return patch.index;
}

/** The CodeLens: which applied patch wrote these lines. Cheap: computed once per series and status. */
class SeriesLenses implements vscode.CodeLensProvider {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  private lines: Promise<Map<string, ChangedLine[]>> | undefined;

  invalidate(): void {
    this.lines = undefined;
    this.emitter.fire();
  }

  dispose(): void {
    this.emitter.dispose();
  }

  private changed(): Promise<Map<string, ChangedLine[]>> {
    this.lines ??= currentSeries().then((s) => (s ? changedLines(s, appliedPatches(s)) : new Map()));
    return this.lines;
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const dir = kernelDir();
    if (!dir || !vscode.workspace.getConfiguration('netmem').get<boolean>('codeLens.enable', true)) return [];
    const rel = relative(dir, doc.uri.fsPath);
    if (!rel || rel.startsWith('..') || isAbsolute(rel)) return [];
    const lines = (await this.changed()).get(rel.split('\\').join('/'));
    if (!lines) return [];
    // One lens per hunk, on its first added line that the file still has as the patch wrote it.
    const seen = new Set<string>();
    const lenses: vscode.CodeLens[] = [];
    for (const c of lines) {
      if (seen.has(c.key) || c.line >= doc.lineCount || doc.lineAt(c.line).text !== c.text) continue;
      seen.add(c.key);
      lenses.push(
        new vscode.CodeLens(new vscode.Range(c.line, 0, c.line, 0), {
          title: `netmem ${c.patch.index}/${c.patch.total}: ${c.patch.subject}`,
          tooltip: 'Show this patch in the Series view',
          command: 'netmem.series.revealPatch',
          arguments: [c.patch.index],
        }),
      );
    }
    return lenses;
  }
}

export function activate(ctx: vscode.ExtensionContext): void {
  const lenses = new SeriesLenses();
  ctx.subscriptions.push(
    lenses,
    vscode.languages.registerCodeLensProvider({ scheme: 'file' }, lenses),
    onDidChangeSeriesView(() => lenses.invalidate()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('netmem.codeLens.enable') || e.affectsConfiguration('netmem.kernelPath')) lenses.invalidate();
    }),
    vscode.commands.registerCommand('netmem.series.nextHunk', () => step(1)),
    vscode.commands.registerCommand('netmem.series.previousHunk', () => step(-1)),
    vscode.commands.registerCommand('netmem.series.openCoverLetter', async () => {
      const opened = await openCoverLetter();
      if (!opened) void vscode.window.showInformationMessage('Netmem: this series has no cover letter.');
      return opened;
    }),
    vscode.commands.registerCommand('netmem.series.copyPatchAsMbox', copyPatchAsMbox),
    vscode.commands.registerCommand('netmem.series.revealPatch', async (index: number) => {
      const patch = (await currentSeries())?.patches.find((p) => p.index === index);
      if (patch) await revealNode(patchNodeOf(patch), true);
    }),
  );
}
