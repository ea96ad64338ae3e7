// Linking the kernel checkout, in the real extension host: "Netmem: Select kernel checkout…" given a
// folder refuses one that is not a kernel tree (the setting stays as it was) and links one that is.
// The workspace settings it writes are removed afterwards, so the workspace checkout stays clean.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';

const EXTENSION_ID = 'netmem-series.netmem-series';

function kernelPathSetting(): string | undefined {
  return vscode.workspace.getConfiguration('netmem').inspect<string>('kernelPath')?.workspaceValue;
}

suite('netmem kernel checkout', () => {
  let dir: string;
  let settingsDir: string | undefined;
  let hadSettingsDir = true;
  let before: string | undefined;

  suiteSetup(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netmem-kernel-e2e-'));
    await vscode.extensions.getExtension(EXTENSION_ID)!.activate();
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    settingsDir = folder ? join(folder, '.vscode') : undefined;
    hadSettingsDir = !!settingsDir && existsSync(settingsDir);
    before = kernelPathSetting();
  });

  suiteTeardown(async () => {
    await vscode.workspace.getConfiguration('netmem').update('kernelPath', before, vscode.ConfigurationTarget.Workspace);
    // The folder the setting created (an untracked .vscode/ would make the checkout dirty).
    if (settingsDir && !hadSettingsDir && existsSync(settingsDir)) {
      const left = readdirSync(settingsDir);
      if (left.every((f) => f === 'settings.json')) rmSync(settingsDir, { recursive: true, force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('a folder that is not a kernel tree is refused and nothing is linked', async function () {
    if (!vscode.workspace.workspaceFolders?.length) this.skip();
    const notKernel = join(dir, 'not-kernel');
    mkdirSync(notKernel);
    writeFileSync(join(notKernel, 'Makefile'), 'all:\n');
    const linked = await vscode.commands.executeCommand<string | undefined>('netmem.selectKernel', vscode.Uri.file(notKernel));
    assert.equal(linked, undefined);
    assert.equal(kernelPathSetting(), before);
  });

  test('a kernel tree given to "Select kernel checkout" becomes netmem.kernelPath', async function () {
    if (!vscode.workspace.workspaceFolders?.length) this.skip();
    const tree = join(dir, 'linux-6.9.1');
    mkdirSync(join(tree, 'include', 'linux'), { recursive: true });
    writeFileSync(join(tree, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 9\nSUBLEVEL = 1\nEXTRAVERSION =\n');
    writeFileSync(join(tree, 'Kconfig'), 'mainmenu "Linux"\n');
    writeFileSync(join(tree, 'include', 'linux', 'skbuff.h'), '/* skbuff */\n');
    const linked = await vscode.commands.executeCommand<string | undefined>('netmem.selectKernel', vscode.Uri.file(tree));
    assert.equal(linked, tree);
    assert.equal(kernelPathSetting(), tree);
  });
});
