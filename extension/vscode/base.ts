// "Netmem: Prepare pinned base tree": the core's prepareBase with progress and cancellation.
import * as vscode from 'vscode';
import { BaseError, prepareBase, type BaseResult } from '../core/kernel/base';
import { describeDrift, loadManifest } from '../core/kernel/manifest';
import { CancelledError } from '../core/util/process';
import { log } from './log';
import { requireTrust } from './trust';

async function prepare(): Promise<BaseResult | undefined> {
  if (!requireTrust('Preparing the base tree')) return undefined;
  const configured = vscode.workspace.getConfiguration('netmem').get<string>('baseDir')?.trim();
  const manifest = loadManifest();
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Netmem: preparing Linux ${manifest.kernelVersion}`, cancellable: true },
      (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        return prepareBase(manifest, {
          dir: configured || undefined,
          signal: controller.signal,
          onProgress: (message) => {
            log().info(`base: ${message}`);
            progress.report({ message });
          },
        });
      },
    );
    for (const n of result.notices) log().warn(`base: ${n}`);
    for (const d of result.drift) log().warn(`base: drift: ${describeDrift(d)}`);
    log().info(`base: ${result.reused ? 'reused' : 'created'} ${result.dir} at ${result.commit}`);
    const open = 'Open Folder';
    const message = result.drift.length
      ? `Netmem: base tree at ${result.dir}, but ${result.drift.length} file(s) differ from the manifest (see the log).`
      : `Netmem: base tree ready at ${result.dir}`;
    const show = result.drift.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void show(message, open).then((pick) => {
      if (pick === open) void vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(result.dir), { forceNewWindow: true });
    });
    return result;
  } catch (e) {
    if (e instanceof CancelledError) {
      log().info('base: cancelled');
      void vscode.window.showInformationMessage('Netmem: base preparation cancelled; nothing was left behind.');
      return undefined;
    }
    const hint = e instanceof BaseError && e.hint ? e.hint : undefined;
    log().error(`base: ${(e as Error).message}`);
    const copy = 'Copy Command';
    void vscode.window.showErrorMessage(`Netmem: ${(e as Error).message}`, ...(hint ? [copy] : [])).then((pick) => {
      if (pick === copy && hint) void vscode.env.clipboard.writeText(hint);
    });
    return undefined;
  }
}

export function activate(ctx: vscode.ExtensionContext): void {
  ctx.subscriptions.push(vscode.commands.registerCommand('netmem.prepareBase', prepare));
}
