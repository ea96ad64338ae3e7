// Linking the kernel checkout: "Netmem: Select kernel checkout…" (a kernel tree among the workspace
// folders, or any folder), and a status bar item with the linked tree, its version and how much of
// the series is applied on its HEAD ("$(git-branch) linux-6.1.192 · 6.1.192 · series 3/3 applied"),
// as the apply module's per-patch status says (it runs git, so only in a trusted workspace).
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { isKernelTree, kernelVersion, missingKernelFiles } from '../core/kernel/tree';
import type { SeriesStatus } from '../core/series/status';
import { onDidChangeSeriesStatus, seriesStatus } from './apply';
import { log } from './log';
import { kernelDir, onDidChangeKernel, setKernelDir } from './workspace';

/** Links `dir` when it is a kernel tree; otherwise says what it lacks. True when linked. */
async function link(dir: string): Promise<boolean> {
  const missing = missingKernelFiles(dir);
  if (missing.length) {
    void vscode.window.showErrorMessage(`Netmem: ${dir} is not a Linux kernel tree: it has no ${missing.join(', ')}.`);
    return false;
  }
  await setKernelDir(dir);
  log().info(`linked kernel checkout ${dir} (${kernelVersion(dir) ?? 'unknown version'})`);
  return true;
}

/**
 * The command. With a folder (Uri or path) as argument, as the Explorer or a test passes it, that
 * folder is linked; otherwise a quick pick of the workspace's kernel trees and "Browse…".
 * Resolves to the linked path, or undefined when nothing was linked.
 */
async function selectKernel(arg?: unknown): Promise<string | undefined> {
  const given = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg : undefined;
  if (given) return (await link(given)) ? given : undefined;
  const current = kernelDir();
  type Item = vscode.QuickPickItem & { dir?: string };
  const items: Item[] = (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file' && isKernelTree(f.uri.fsPath))
    .map((f) => ({
      label: `$(folder) ${f.name}`,
      description: [kernelVersion(f.uri.fsPath), f.uri.fsPath === current ? 'linked' : undefined].filter(Boolean).join(' · '),
      detail: f.uri.fsPath,
      dir: f.uri.fsPath,
    }));
  items.push({ label: '$(folder-opened) Browse…', detail: 'Choose a folder holding a Linux kernel checkout' });
  const pick = await vscode.window.showQuickPick(items, { title: 'Netmem: Select kernel checkout', placeHolder: current ? `Linked: ${current}` : 'No kernel checkout linked yet' });
  if (!pick) return undefined;
  let dir = pick.dir;
  if (!dir) {
    const chosen = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Link kernel checkout', defaultUri: current ? vscode.Uri.file(current) : undefined });
    dir = chosen?.[0]?.fsPath;
  }
  return dir && (await link(dir)) ? dir : undefined;
}

/** "series 2/3 applied" for the linked checkout, or why it is not known. */
function seriesState(dir: string, status: SeriesStatus | undefined): { text: string; detail: string } {
  if (!vscode.workspace.isTrusted) return { text: 'series ?', detail: 'The series state needs git: trust the workspace to see it.' };
  if (!status || status.kernelDir !== dir) return { text: 'series ?', detail: 'The series state is not known (yet): is the checkout a git repository? See Netmem: Show log.' };
  const applied = status.patches.filter((p) => p.state === 'applied').length;
  const lines = status.patches.map((p) => `${p.state === 'applied' ? '✓' : '·'} ${p.index}/${status.patches.length} ${p.subject} (${p.state})`);
  const on = status.branch ? ` on ${status.branch}` : '';
  return { text: `series ${applied}/${status.patches.length} applied`, detail: `HEAD${on}:\n${lines.join('\n')}` };
}

export function activate(ctx: vscode.ExtensionContext): void {
  const item = vscode.window.createStatusBarItem('netmem.kernel', vscode.StatusBarAlignment.Left, 100);
  item.name = 'Netmem kernel checkout';
  item.command = 'netmem.selectKernel';
  const refresh = () => {
    const dir = kernelDir();
    if (!dir) {
      item.text = '$(circle-slash) no kernel linked';
      item.tooltip = 'Netmem: no Linux kernel checkout is linked. Click to select one.';
    } else {
      const state = seriesState(dir, seriesStatus());
      item.text = `$(git-branch) ${basename(dir)} · ${kernelVersion(dir) ?? '?'} · ${state.text}`;
      item.tooltip = `Netmem: ${dir}\n\n${state.detail}\n\nClick to link another checkout.`;
    }
    item.show();
  };
  ctx.subscriptions.push(
    item,
    vscode.commands.registerCommand('netmem.selectKernel', selectKernel),
    // Hidden from the palette: the item's current text, as tests read it (no API reads status bar items).
    vscode.commands.registerCommand('netmem.kernel.statusText', () => item.text),
    // The apply module recomputes the status on a new checkout or series, HEAD moving and trust.
    onDidChangeSeriesStatus(refresh),
    onDidChangeKernel(refresh),
    vscode.workspace.onDidGrantWorkspaceTrust(refresh),
  );
  refresh();
}
