// One LogOutputChannel for the extension ("Netmem"), and the "Show log" command.
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function log(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('Netmem', { log: true });
  return channel;
}

export function activate(ctx: vscode.ExtensionContext): void {
  ctx.subscriptions.push(log(), vscode.commands.registerCommand('netmem.showLog', () => log().show(true)));
}
