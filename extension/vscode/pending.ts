// Commands whose features are not in this build yet: they say so instead of failing silently.
import * as vscode from 'vscode';

const PENDING: Record<string, string> = {
};

export function activate(ctx: vscode.ExtensionContext): void {
  for (const [id, title] of Object.entries(PENDING)) {
    ctx.subscriptions.push(
      vscode.commands.registerCommand(id, () => vscode.window.showInformationMessage(`Netmem: "${title}" is not available in this version yet.`)),
    );
  }
}
