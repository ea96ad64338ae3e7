// Commands whose features are not in this build yet: they say so instead of failing silently.
import * as vscode from 'vscode';

const PENDING: Record<string, string> = {
  'netmem.applySeries': 'Apply netmem series',
  'netmem.runTests': 'Run kernel tests',
  'netmem.checkWorkspace': 'Check workspace',
  'netmem.selectKernel': 'Select kernel checkout',
  'netmem.openSeries': 'Open series',
};

export function activate(ctx: vscode.ExtensionContext): void {
  for (const [id, title] of Object.entries(PENDING)) {
    ctx.subscriptions.push(
      vscode.commands.registerCommand(id, () => vscode.window.showInformationMessage(`Netmem: "${title}" is not available in this version yet.`)),
    );
  }
}
