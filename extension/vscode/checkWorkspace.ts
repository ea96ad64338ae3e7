// "Netmem: Check workspace": scans the linked kernel checkout (or the workspace folders when none is
// linked, or the folders/files given as arguments, as the Explorer passes them) in the check worker,
// with a cancellable progress notification, and puts the findings into the Problems view. It only
// reads files, so it works in Restricted Mode too.
import { sep } from 'node:path';
import * as vscode from 'vscode';
import { CancelledError } from '../core/util/process';
import { checkWorker, publishScan } from './diagnostics';
import { log } from './log';
import { kernelDir } from './workspace';

export interface CheckSummary {
  findings: number;
  files: number;
  scanned: number;
  ms: number;
}

function rootsFrom(arg: unknown, all: unknown): string[] | undefined {
  const uris = (Array.isArray(all) ? all : arg instanceof vscode.Uri ? [arg] : []).filter((u): u is vscode.Uri => u instanceof vscode.Uri && u.scheme === 'file');
  if (uris.length) return uris.map((u) => u.fsPath);
  const k = kernelDir();
  if (k) return [k];
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  return folders.length ? folders : undefined;
}

async function checkWorkspace(arg?: unknown, all?: unknown): Promise<CheckSummary | undefined> {
  const roots = rootsFrom(arg, all);
  if (!roots) {
    void vscode.window.showErrorMessage('Netmem: nothing to check: open a folder or link a kernel checkout (Netmem: Select kernel checkout…).');
    return undefined;
  }
  const k = kernelDir();
  // The checkout's headers and era when everything scanned is inside it.
  const kernel = k && roots.every((r) => r === k || r.startsWith(k + sep)) ? k : undefined;
  const what = roots.length === 1 ? vscode.workspace.asRelativePath(roots[0]!, true) : `${roots.length} folders`;
  log().info(`check workspace: ${roots.join(', ')}${kernel ? ` with the headers of ${kernel}` : ''}`);
  try {
    const { result, era } = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Netmem: checking ${what}`, cancellable: true },
      async (progress, token) => {
        const ac = new AbortController();
        const sub = token.onCancellationRequested(() => ac.abort());
        let shown = 0;
        try {
          return await checkWorker().scan(roots, kernel, {
            signal: ac.signal,
            onProgress: (p) => {
              // The file count grows while directories are still being listed: the bar moves
              // only once it is final, and never backwards.
              const pct = !p.listing && p.files ? (100 * p.done) / p.files : shown;
              progress.report({ message: `${p.done}/${p.files}${p.listing ? '+' : ''} files, ${p.findings} finding(s)`, increment: Math.max(0, pct - shown) });
              shown = Math.max(shown, pct);
            },
          });
        } finally {
          sub.dispose();
        }
      },
    );
    publishScan(result.findings, roots);
    const files = new Set(result.findings.map((f) => f.file)).size;
    const secs = (result.ms / 1000).toFixed(1);
    for (const s of result.skipped) log().info(`check workspace: skipped ${s.file}: ${s.reason}`);
    log().info(`check workspace: ${result.findings.length} finding(s) in ${files} file(s) of ${result.files}, ${result.candidates} parsed, ${secs} s [${era}]`);
    const skipped = result.skipped.length ? `; ${result.skipped.length} skipped (see the log)` : '';
    void vscode.window
      .showInformationMessage(`Netmem: ${result.findings.length} finding(s) in ${files} file(s) (${secs} s)${skipped}.`, ...(result.findings.length ? ['Show Problems'] : []))
      .then((pick) => pick && vscode.commands.executeCommand('workbench.actions.view.problems'));
    return { findings: result.findings.length, files, scanned: result.files, ms: result.ms };
  } catch (e) {
    if (e instanceof CancelledError) {
      void vscode.window.showInformationMessage('Netmem: Check workspace cancelled.');
      return undefined;
    }
    log().error(`check workspace: ${(e as Error).message}`);
    void vscode.window.showErrorMessage(`Netmem: Check workspace failed: ${(e as Error).message}`);
    return undefined;
  }
}

export function activate(ctx: vscode.ExtensionContext): void {
  ctx.subscriptions.push(vscode.commands.registerCommand('netmem.checkWorkspace', checkWorkspace));
}
