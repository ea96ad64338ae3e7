// "Netmem: Apply netmem series" in the real extension host, on the suite's workspace (a copy of the
// kernel base): the command makes the branch from the setting and applies every patch with git am;
// the per-patch status the Series view and status bar read then says "applied" for each. The
// workspace goes back to branch `base` afterwards and the test branch is deleted.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

const EXTENSION_ID = 'netmem-series.netmem-series';
const BRANCH = 'netmem-e2e-apply';

interface Outcome {
  kind: string;
  branch?: string;
  commits?: string[];
}

suite('netmem apply series', () => {
  let dir: string;
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  let previousBranch: string | undefined;

  suiteSetup(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)!.activate();
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(folder, 'the e2e suite has no workspace folder');
    dir = folder;
    const isKernel = ['Makefile', 'Kconfig', 'include/linux/skbuff.h'].every((f) => existsSync(join(dir, f)));
    assert.ok(isKernel, `the e2e workspace ${dir} is not a kernel tree (Makefile, Kconfig, include/linux/skbuff.h); the harness must open a copy of the kernel base`);
    assert.ok(existsSync(join(dir, '.git')), `the e2e workspace ${dir} is not a git checkout`);
    assert.equal(git('status', '--porcelain', '--untracked-files=no'), '', 'the e2e workspace has uncommitted changes to tracked files');
    previousBranch = vscode.workspace.getConfiguration('netmem').inspect<string>('branch')?.workspaceValue;
    await vscode.workspace.getConfiguration('netmem').update('branch', BRANCH, vscode.ConfigurationTarget.Workspace);
  });

  suiteTeardown(async () => {
    await vscode.workspace.getConfiguration('netmem').update('branch', previousBranch, vscode.ConfigurationTarget.Workspace);
    if (!dir) return;
    execFileSync('git', ['checkout', '-q', '-f', 'base'], { cwd: dir });
    try {
      execFileSync('git', ['branch', '-q', '-D', BRANCH], { cwd: dir, stdio: 'ignore' });
    } catch {
      // the branch was not made
    }
  });

  test('creates the branch from the netmem.branch setting and applies every patch', async function () {
    this.timeout(120_000);
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const patchesDir = join(ext.extensionPath, 'patches');
    const patchFiles = readdirSync(patchesDir).filter((f) => /^\d{4}-/.test(f) && !f.startsWith('0000-'));
    const subjects = patchFiles.map((f) => /^Subject: \[PATCH[^\]]*\] (.*(?:\n[ \t].*)*)/m.exec(readFileSync(join(patchesDir, f), 'utf8'))![1]!.replace(/\n[ \t]+/g, ' '));
    const head = git('rev-parse', 'HEAD');
    const outcome = (await vscode.commands.executeCommand('netmem.applySeries')) as Outcome | undefined;
    assert.ok(outcome, 'the command did not run (no linked kernel, or untrusted workspace?)');
    assert.equal(outcome.kind, 'applied', JSON.stringify(outcome));
    assert.equal(git('symbolic-ref', '--short', 'HEAD'), BRANCH);
    assert.equal(git('rev-list', '--count', `${head}..HEAD`), String(patchFiles.length));
    assert.deepEqual(git('log', '--reverse', '--format=%s', `${head}..HEAD`).split('\n'), subjects);
    assert.equal(git('status', '--porcelain', '--untracked-files=no'), '');
    assert.ok(existsSync(join(dir, 'include/net/netmem.h')), 'patch 2 adds include/net/netmem.h');
  });
});
