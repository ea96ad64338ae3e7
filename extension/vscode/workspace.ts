// The linked kernel checkout and the current series source, shared by every feature.
// Kernel: the `netmem.kernelPath` setting, else the first workspace folder that is a kernel tree.
// Series: the folder or mbox chosen with "Netmem: Open series…" (kept per workspace), else the
// `netmem.seriesPath` setting, else the series bundled with the extension.
import { isAbsolute, resolve } from 'node:path';
import * as vscode from 'vscode';
import { isKernelTree } from '../core/kernel/tree';
import { BUNDLED_SERIES } from '../core/series/patchfile';

const SERIES_KEY = 'netmem.seriesSource';
const kernelEmitter = new vscode.EventEmitter<string | undefined>();
const seriesEmitter = new vscode.EventEmitter<string>();
let state: vscode.Memento | undefined;
let lastKernel: string | undefined;

/** Fires when the linked kernel changes (setting, folders). */
export const onDidChangeKernel = kernelEmitter.event;
/** Fires when the series source changes. */
export const onDidChangeSeries = seriesEmitter.event;

function expand(p: string): string {
  const home = process.env.HOME ?? '';
  const withHome = p.startsWith('~/') ? home + p.slice(1) : p;
  if (isAbsolute(withHome)) return withHome;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return folder ? resolve(folder, withHome) : resolve(withHome);
}

/** The linked kernel checkout (absolute), or undefined when none is set or found. */
export function kernelDir(): string | undefined {
  const configured = vscode.workspace.getConfiguration('netmem').get<string>('kernelPath', '').trim();
  if (configured) return expand(configured);
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    if (f.uri.scheme === 'file' && isKernelTree(f.uri.fsPath)) return f.uri.fsPath;
  }
  return undefined;
}

/** The series source: a folder of patches or an mbox file (absolute). */
export function seriesSource(): string {
  const chosen = state?.get<string>(SERIES_KEY);
  if (chosen) return chosen;
  const configured = vscode.workspace.getConfiguration('netmem').get<string>('seriesPath', '').trim();
  return configured ? expand(configured) : BUNDLED_SERIES();
}

/** True when the series source is the one bundled with the extension. */
export function isBundledSeries(): boolean {
  return resolve(seriesSource()) === resolve(BUNDLED_SERIES());
}

/** Makes `path` the series source (undefined: back to the setting or the bundled series). */
export async function setSeriesSource(path: string | undefined): Promise<void> {
  await state?.update(SERIES_KEY, path);
  seriesEmitter.fire(seriesSource());
}

/** Sets `netmem.kernelPath` for this workspace (or globally when no folder is open). */
export async function setKernelDir(dir: string): Promise<void> {
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration('netmem').update('kernelPath', dir, target);
}

function recheck(): void {
  const now = kernelDir();
  if (now !== lastKernel) {
    lastKernel = now;
    kernelEmitter.fire(now);
  }
}

export function activate(ctx: vscode.ExtensionContext): void {
  state = ctx.workspaceState;
  lastKernel = kernelDir();
  ctx.subscriptions.push(
    kernelEmitter,
    seriesEmitter,
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('netmem.kernelPath')) recheck();
      if (e.affectsConfiguration('netmem.seriesPath')) seriesEmitter.fire(seriesSource());
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => recheck()),
  );
}
