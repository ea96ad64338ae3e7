// The "Netmem Series" view: cover letter → patches (status against the linked checkout) → files →
// hunks. A hunk opens in the checkout when its patch is applied there, otherwise as a read-only diff
// of the file before and after its patch (base from git, the patches applied in memory).
import { join } from 'node:path';
import * as vscode from 'vscode';
import { readBlobs, Git } from '../core/git/git';
import { applyHunks } from '../core/series/applyHunks';
import { loadSeries, type CoverLetter, type FileDiff, type Patch, type Series } from '../core/series/model';
import { diffStat, focusLine, hunkKey, hunkOrder, lineInCheckout, patchLabel, type HunkRef } from '../core/series/navigate';
import { onDidChangeSeriesStatus, patchStatus, refreshSeriesStatus, seriesStatus, type PatchStatus } from './apply';
import { log } from './log';
import { kernelDir, onDidChangeKernel, onDidChangeSeries, seriesSource } from './workspace';

export const VIEW_ID = 'netmem.series';
const SCHEME = 'netmem-series';

export type Node =
  | { kind: 'cover'; cover: CoverLetter }
  | { kind: 'patch'; patch: Patch }
  | { kind: 'file'; patch: Patch; file: FileDiff; index: number }
  | { kind: 'hunk'; ref: HunkRef };

// ---- the loaded series ---------------------------------------------------------------------------

let loaded: Promise<Series | undefined> | undefined;
let loadError: string | undefined;
let generation = 0;
const changed = new vscode.EventEmitter<void>();
/** Fires after the series was reloaded or a patch's status changed (the view, CodeLens refresh). */
export const onDidChangeSeriesView = changed.event;

/** The series shown in the view (undefined when it cannot be loaded; see seriesLoadError). */
export function currentSeries(): Promise<Series | undefined> {
  loaded ??= loadSeries(seriesSource()).then(
    (s) => {
      loadError = undefined;
      return s;
    },
    (e: unknown) => {
      loadError = e instanceof Error ? e.message : String(e);
      log().error(`series: cannot load ${seriesSource()}: ${loadError}`);
      return undefined;
    },
  );
  return loaded;
}

export const seriesLoadError = () => loadError;

function reload(): void {
  loaded = undefined;
  generation++;
  baseBlobs.clear();
  nodes.clear();
  changed.fire();
}

/** Patch indexes the status check found applied in the linked checkout. */
export function appliedPatches(series: Series): Set<number> {
  return new Set(series.patches.filter((p) => statusOf(p) === 'applied').map((p) => p.index));
}

function statusOf(patch: Patch): PatchStatus | undefined {
  return kernelDir() ? patchStatus(patch.index) : undefined;
}

// ---- tree nodes, kept so that reveal() finds the same objects ---------------------------------------

const nodes = new Map<string, Node>();

function node<T extends Node>(id: string, make: () => T): T {
  let n = nodes.get(id);
  if (!n) nodes.set(id, (n = make()));
  return n as T;
}

const patchNode = (patch: Patch) => node(`p${patch.index}`, () => ({ kind: 'patch', patch }) as const);
const fileNode = (patch: Patch, index: number) => node(`f${patch.index}/${index}`, () => ({ kind: 'file', patch, file: patch.files[index]!, index }) as const);
export const hunkNode = (ref: HunkRef) => node(`h${ref.key}`, () => ({ kind: 'hunk', ref }) as const);

const STATUS: Record<PatchStatus | 'unknown', { icon: string; color?: string; text: string }> = {
  applied: { icon: 'pass-filled', color: 'testing.iconPassed', text: 'applied in the linked checkout' },
  upstream: { icon: 'cloud', color: 'charts.blue', text: 'already upstream: the checkout has this change' },
  clean: { icon: 'circle-large-outline', text: 'applies cleanly to the linked checkout' },
  '3way': { icon: 'git-merge', color: 'list.warningForeground', text: 'applies with a 3-way merge' },
  conflict: { icon: 'error', color: 'list.errorForeground', text: 'conflicts with the linked checkout' },
  unknown: { icon: 'question', text: 'status unknown (no linked checkout, or not checked yet)' },
};

function patchTooltip(patch: Patch, status: PatchStatus | 'unknown'): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${escape(patchLabel(patch))}**\n\n`);
  md.appendMarkdown(`$(${STATUS[status].icon}) ${STATUS[status].text}\n\n`);
  const conflict = status === 'conflict' ? seriesStatus()?.patches.find((p) => p.index === patch.index) : undefined;
  if (conflict?.files?.length) md.appendMarkdown(`Does not apply: ${conflict.files.map(escape).join(', ')}\n\n`);
  md.appendMarkdown(`${escape(`${patch.author.name} <${patch.author.email}>`)}${patch.date ? `, ${escape(patch.date)}` : ''}\n\n`);
  if (patch.trailers.length) md.appendMarkdown(patch.trailers.map((t) => `${escape(t.key)}: ${escape(t.value)}`).join('  \n') + '\n\n');
  md.appendMarkdown(`${patch.files.length} file(s), ${diffStat(patch.added, patch.removed)}`);
  return md;
}

const escape = (s: string) => s.replace(/[\\`*_{}[\]()#+\-.!<>|$]/g, '\\$&');

class SeriesTree implements vscode.TreeDataProvider<Node> {
  readonly onDidChangeTreeData = changed.event;

  async getChildren(parent?: Node): Promise<Node[]> {
    if (!parent) {
      if (!kernelDir()) return [];
      const series = await currentSeries();
      if (!series) return [];
      const top: Node[] = series.cover ? [node('cover', () => ({ kind: 'cover', cover: series.cover! }) as const)] : [];
      return [...top, ...series.patches.map(patchNode)];
    }
    if (parent.kind === 'patch') return parent.patch.files.map((_, i) => fileNode(parent.patch, i));
    if (parent.kind === 'file') return parent.file.hunks.map((hunk, hi) => hunkNode({ patch: parent.patch, file: parent.file, hunk, key: hunkKey(parent.patch.index, parent.index, hi) }));
    return [];
  }

  getParent(n: Node): Node | undefined {
    if (n.kind === 'file') return patchNode(n.patch);
    if (n.kind === 'hunk') return fileNode(n.ref.patch, n.ref.patch.files.indexOf(n.ref.file));
    return undefined;
  }

  getTreeItem(n: Node): vscode.TreeItem {
    const C = vscode.TreeItemCollapsibleState;
    switch (n.kind) {
      case 'cover': {
        const item = new vscode.TreeItem(n.cover.subject, C.None);
        item.id = `${generation}:cover`;
        item.description = 'cover letter';
        item.iconPath = new vscode.ThemeIcon('mail');
        item.contextValue = 'cover';
        item.tooltip = n.cover.author ? `${n.cover.author.name} <${n.cover.author.email}>${n.cover.date ? `, ${n.cover.date}` : ''}` : n.cover.subject;
        item.command = { command: 'netmem.series.openCoverLetter', title: 'Open cover letter' };
        return item;
      }
      case 'patch': {
        const status = statusOf(n.patch) ?? 'unknown';
        const item = new vscode.TreeItem(patchLabel(n.patch), C.Collapsed);
        item.id = `${generation}:p${n.patch.index}`;
        item.description = diffStat(n.patch.added, n.patch.removed);
        const s = STATUS[status];
        item.iconPath = new vscode.ThemeIcon(s.icon, s.color ? new vscode.ThemeColor(s.color) : undefined);
        item.tooltip = patchTooltip(n.patch, status);
        item.contextValue = `patch.${status}`;
        return item;
      }
      case 'file': {
        const item = new vscode.TreeItem(n.file.path, n.file.hunks.length ? C.Collapsed : C.None);
        item.id = `${generation}:f${n.patch.index}/${n.index}`;
        item.resourceUri = vscode.Uri.file(join(kernelDir() ?? '/', n.file.path));
        item.description = n.file.binary ? 'binary' : `${n.file.status === 'modified' ? '' : `${n.file.status} `}${diffStat(n.file.added, n.file.removed)}`;
        item.tooltip = n.file.oldPath && n.file.newPath && n.file.oldPath !== n.file.newPath ? `${n.file.oldPath} → ${n.file.newPath}` : n.file.path;
        item.iconPath = vscode.ThemeIcon.File;
        item.contextValue = 'file';
        return item;
      }
      case 'hunk': {
        const { ref } = n;
        const item = new vscode.TreeItem(ref.hunk.header, C.None);
        item.id = `${generation}:h${ref.key}`;
        item.description = diffStat(ref.hunk.added, ref.hunk.removed);
        item.tooltip = new vscode.MarkdownString().appendCodeblock(ref.hunk.lines.slice(0, 40).join('\n'), 'diff');
        item.contextValue = 'hunk';
        item.command = { command: 'netmem.series.openHunk', title: 'Open hunk', arguments: [ref.key] };
        return item;
      }
    }
  }
}

// ---- base ↔ patched documents ----------------------------------------------------------------------

const baseBlobs = new Map<string, Promise<string | undefined>>();

/** The revision the series applies to: tag netmem-base when the checkout has it, else HEAD. */
async function baseRev(dir: string): Promise<string> {
  return (await new Git(dir).resolve('netmem-base')) ? 'netmem-base' : 'HEAD';
}

function baseFile(path: string): Promise<string | undefined> {
  const dir = kernelDir();
  if (!dir) return Promise.reject(new Error('no kernel checkout is linked'));
  if (!vscode.workspace.isTrusted) return Promise.reject(new Error('reading the base from git needs a trusted workspace'));
  let blob = baseBlobs.get(path);
  if (!blob) {
    blob = baseRev(dir).then(async (rev) => (await readBlobs(dir, rev, [path])).get(path)?.toString('utf8'));
    baseBlobs.set(path, blob);
  }
  return blob;
}

/** `path` as it is after patches 1..upto of the series (upto 0: the base). */
async function fileAfter(series: Series, upto: number, path: string): Promise<string> {
  for (let i = upto; i >= 1; i--) {
    const fd = series.patches[i - 1]!.files.find((f) => f.newPath === path);
    if (fd) return applyHunks(fd.oldPath ? await fileAfter(series, i - 1, fd.oldPath) : '', fd.hunks);
  }
  const text = await baseFile(path);
  if (text === undefined) throw new Error(`${path} is not in the checkout's base`);
  return text;
}

/** Both sides of a hunk alone, for when the whole file cannot be made. */
function hunkSides(ref: HunkRef): [string, string] {
  const side = (keep: string) => ref.hunk.lines.filter((l) => keep.includes(l[0] ?? ' ')).map((l) => l.slice(1)).join('\n') + '\n';
  return [side(' -'), side(' +')];
}

interface DocQuery {
  g: number;
  what: 'before' | 'after' | 'hunk-before' | 'hunk-after' | 'cover';
  key?: string;
}

function docUri(path: string, q: DocQuery): vscode.Uri {
  return vscode.Uri.from({ scheme: SCHEME, path: `/${path}`, query: new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)])).toString() });
}

class SeriesDocuments implements vscode.TextDocumentContentProvider {
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = new URLSearchParams(uri.query);
    const series = await currentSeries();
    if (!series || Number(q.get('g')) !== generation) return '(this series is no longer loaded)\n';
    const what = q.get('what');
    if (what === 'cover') return series.cover?.raw ?? '(this series has no cover letter)\n';
    const ref = hunkOrder(series).find((r) => r.key === q.get('key'));
    if (!ref) return '(no such hunk in the series)\n';
    if (what === 'hunk-before' || what === 'hunk-after') return hunkSides(ref)[what === 'hunk-before' ? 0 : 1];
    if (ref.file.binary) return `(binary file ${ref.file.path})\n`;
    if (what === 'before') return ref.file.oldPath ? fileAfter(series, ref.patch.index - 1, ref.file.oldPath) : '';
    return ref.file.newPath ? fileAfter(series, ref.patch.index, ref.file.newPath) : '';
  }
}

/** Opens the series' cover letter read-only; false when the series has none. */
export async function openCoverLetter(): Promise<boolean> {
  const series = await currentSeries();
  if (!series?.cover) return false;
  const doc = await vscode.workspace.openTextDocument(docUri('cover-letter.patch', { g: generation, what: 'cover' }));
  await vscode.window.showTextDocument(doc, { preview: true });
  return true;
}

let lastHunk: string | undefined;
/** The key of the hunk opened last (where next/previous continue from). */
export const lastOpenedHunk = () => lastHunk;

/** Opens a hunk: in the checkout when its patch is applied there, else as a read-only diff. */
export async function openHunk(ref: HunkRef): Promise<void> {
  lastHunk = ref.key;
  const series = await currentSeries();
  const dir = kernelDir();
  const line = focusLine(ref.hunk);
  if (series && dir && statusOf(ref.patch) === 'applied' && ref.file.newPath) {
    const at = lineInCheckout(series, ref.patch.index, ref.file.newPath, line, appliedPatches(series));
    if (at) {
      const pos = new vscode.Position(Math.max(at.line - 1, 0), 0);
      await vscode.window.showTextDocument(vscode.Uri.file(join(dir, at.path)), { selection: new vscode.Range(pos, pos), preview: true });
      return;
    }
  }
  const g = generation;
  const title = `${ref.file.path} (${patchLabel(ref.patch).split(' ')[0]} ${ref.patch.subject})`;
  let before = docUri(ref.file.oldPath ?? ref.file.path, { g, what: 'before', key: ref.key });
  let after = docUri(ref.file.newPath ?? ref.file.path, { g, what: 'after', key: ref.key });
  let target = line;
  try {
    if (!series) throw new Error(loadError ?? 'the series is not loaded');
    if (ref.file.oldPath) await fileAfter(series, ref.patch.index - 1, ref.file.oldPath);
    if (ref.file.newPath) await fileAfter(series, ref.patch.index, ref.file.newPath);
  } catch (e) {
    log().info(`series: showing ${ref.file.path} ${ref.hunk.header} alone: ${e instanceof Error ? e.message : String(e)}`);
    before = docUri(ref.file.oldPath ?? ref.file.path, { g, what: 'hunk-before', key: ref.key });
    after = docUri(ref.file.newPath ?? ref.file.path, { g, what: 'hunk-after', key: ref.key });
    target = 1 + ref.hunk.lines.filter((l) => l[0] !== '-').findIndex((l) => l[0] === '+');
  }
  const pos = new vscode.Position(Math.max(target - 1, 0), 0);
  await vscode.commands.executeCommand('vscode.diff', before, after, title, { preview: true, selection: new vscode.Range(pos, pos) });
}

// ---- the view --------------------------------------------------------------------------------------

let view: vscode.TreeView<Node> | undefined;
const tree = new SeriesTree();

/** Selects a node in the Series view (showing the view), quietly doing nothing when it is hidden away. */
export async function revealNode(n: Node, focus = false): Promise<void> {
  try {
    await view?.reveal(n, { select: true, focus, expand: n.kind === 'patch' });
  } catch (e) {
    log().debug(`series: reveal: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export const patchNodeOf = patchNode;

/** A tree item as plain data (what `netmem.series.getTree` returns). */
export interface PlainNode {
  label: string;
  description?: string;
  tooltip?: string;
  contextValue?: string;
  command?: { command: string; arguments?: unknown[] };
  resource?: string;
  children: PlainNode[];
}

/** The whole tree as the view's data provider gives it (for tests and diagnostics). */
async function plainTree(parent?: Node): Promise<PlainNode[]> {
  const out: PlainNode[] = [];
  for (const child of await tree.getChildren(parent)) {
    const item = tree.getTreeItem(child);
    const tip = item.tooltip;
    out.push({
      label: typeof item.label === 'string' ? item.label : (item.label?.label ?? ''),
      description: typeof item.description === 'string' ? item.description : undefined,
      tooltip: typeof tip === 'string' ? tip : tip?.value,
      contextValue: item.contextValue,
      command: item.command && { command: item.command.command, arguments: item.command.arguments },
      resource: item.resourceUri?.toString(),
      children: await plainTree(child),
    });
  }
  return out;
}

async function updateContext(): Promise<void> {
  const series = kernelDir() ? await currentSeries() : undefined;
  const state = !kernelDir() ? 'noKernel' : series ? 'loaded' : 'error';
  await vscode.commands.executeCommand('setContext', 'netmem.seriesState', state);
  if (view) view.message = state === 'error' ? `The series at ${seriesSource()} cannot be loaded: ${loadError}` : undefined;
  if (view && series) view.description = series.version ? `v${series.version}` : undefined;
}

export function activate(ctx: vscode.ExtensionContext): void {
  view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: tree, showCollapseAll: true });
  const refresh = () => {
    reload();
    void updateContext();
  };
  ctx.subscriptions.push(
    changed,
    view,
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, new SeriesDocuments()),
    onDidChangeSeries(refresh),
    onDidChangeKernel(refresh),
    onDidChangeSeriesStatus(() => changed.fire()),
    vscode.commands.registerCommand('netmem.series.refresh', () => {
      refresh();
      return refreshSeriesStatus();
    }),
    vscode.commands.registerCommand('netmem.series.openHunk', async (key: string) => {
      const series = await currentSeries();
      const ref = series && hunkOrder(series).find((r) => r.key === key);
      if (ref) await openHunk(ref);
    }),
    vscode.commands.registerCommand('netmem.series.getTree', () => plainTree()),
  );
  void updateContext();
}
