// "Netmem: Open series…": pick an mbox (as b4 or a mail client saves it) or a folder of .patch files,
// or go back to the bundled series. The pick is loaded first, so a file that is not a series is
// refused with the parser's reason and the current series stays as it was.
import * as vscode from 'vscode';
import { loadSeries } from '../core/series/model';
import { log } from './log';
import { isBundledSeries, setSeriesSource } from './workspace';

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Makes `path` the series source when it holds a series (undefined: the bundled series). False when
 * the path was refused (the user was told why).
 */
export async function openSeriesAt(path: string | undefined): Promise<boolean> {
  if (path === undefined) {
    await setSeriesSource(undefined);
    return true;
  }
  try {
    const series = await loadSeries(path);
    await setSeriesSource(path);
    log().info(`series: opened ${path}: ${series.patches.length} patch(es), "${series.title}"`);
    void vscode.window.showInformationMessage(`Netmem: series "${series.title}" (${series.patches.length} patches) from ${path}`);
    return true;
  } catch (e) {
    log().warn(`series: refused ${path}: ${errorText(e)}`);
    void vscode.window.showErrorMessage(`Netmem: ${errorText(e)}. The current series is unchanged.`);
    return false;
  }
}

async function pickAndOpen(path?: string | null): Promise<boolean> {
  if (path !== undefined) return openSeriesAt(path ?? undefined);
  const browse = { label: '$(folder-opened) Browse for an mbox file or a folder of patches\u2026' };
  const bundled = { label: '$(package) Use bundled series', description: isBundledSeries() ? 'current' : undefined };
  const pick = await vscode.window.showQuickPick([browse, bundled], { title: 'Netmem: Open series' });
  if (pick === bundled) return openSeriesAt(undefined);
  if (pick !== browse) return false;
  const chosen = await vscode.window.showOpenDialog({
    title: 'Open series: an mbox file or a folder of .patch files',
    openLabel: 'Open series',
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    filters: { 'Mbox and patches': ['mbox', 'mbx', 'eml', 'patch', 'txt'], 'All files': ['*'] },
  });
  const uri = chosen?.[0];
  return uri ? openSeriesAt(uri.fsPath) : false;
}

export function activate(ctx: vscode.ExtensionContext): void {
  // An argument (tests, links) skips the dialogs: a path, or null for the bundled series.
  ctx.subscriptions.push(
    vscode.commands.registerCommand('netmem.openSeries', (path?: unknown) => pickAndOpen(typeof path === 'string' || path === null ? path : undefined)),
  );
}
