// Anything that runs git, make, apt-get or QEMU on the workspace needs a trusted workspace.
import * as vscode from 'vscode';

/** True when the workspace is trusted; otherwise tells the user why `what` will not run. */
export function requireTrust(what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window
    .showWarningMessage(`Netmem: ${what} runs programs on your files, so it is disabled in Restricted Mode. Trust this workspace to use it.`, 'Manage Workspace Trust')
    .then((pick) => pick && vscode.commands.executeCommand('workbench.trust.manage'));
  return false;
}
