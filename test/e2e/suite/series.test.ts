// The Series view in the extension host, on the kernel workspace: its data provider lists the bundled
// series as the patch files say (subjects, files, hunks, diffstat), a hunk opens the right file at
// the right line, next/previous walk every hunk in order, the cover letter opens, a patch goes to the
// clipboard as mbox, and "Open series…" refuses a non-series file and takes a folder of patches.
import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { bundled, extension, patchNodes, tree, waitFor, type PatchFacts } from './seriesFacts';

/** The first line a hunk changes on its new side, and its text, when that change is an added line. */
function firstAdded(h: { header: string; body: string[] }): { line: number; text: string } | undefined {
  const newStart = Number(/\+(\d+)/.exec(h.header)![1]);
  const lead = h.body.findIndex((l) => l[0] === '+' || l[0] === '-');
  if (h.body[lead]?.[0] !== '+') return undefined;
  return { line: newStart + lead, text: h.body[lead]!.slice(1) };
}

suite('Series view', () => {
  suiteSetup(async function () {
    this.timeout(60_000);
    await extension().activate();
    // Back to the bundled series, whatever an earlier run left in the workspace state.
    await vscode.commands.executeCommand('netmem.openSeries', null);
  });

  test('lists the bundled patches with their subjects, files, hunks and diffstat', async () => {
    const { cover, patches } = bundled();
    const nodes = await tree();
    assert.equal(nodes[0]?.contextValue, 'cover', `the first item is not the cover letter: ${JSON.stringify(nodes[0]?.label)}`);
    assert.equal(nodes[0]!.label, cover.subject);
    const shown = patchNodes(nodes);
    assert.deepEqual(
      shown.map((n) => n.label),
      patches.map((p, i) => `${i + 1}/${patches.length} ${p.subject}`),
    );
    shown.forEach((node, i) => {
      const p = patches[i]!;
      assert.equal(node.description, `+${p.added} \u2212${p.removed}`, `diffstat of ${p.name}`);
      const author = /^From: (.*)$/m.exec(p.text)![1]!;
      assert.ok(node.tooltip?.replace(/\\(.)/g, '$1').includes(author), `tooltip of ${p.name} lacks the author ${author}: ${node.tooltip}`);
      assert.deepEqual(node.children.map((f) => f.label), p.files.map((f) => f.path), `files of ${p.name}`);
      node.children.forEach((fileNode, fi) => {
        const hunks = p.files[fi]!.hunks;
        assert.ok(fileNode.resource?.endsWith(`/${p.files[fi]!.path}`), `file item without its resource: ${fileNode.resource}`);
        assert.deepEqual(
          fileNode.children.map((h) => h.label),
          hunks.map((h) => h.header),
          `hunks of ${fileNode.label}`,
        );
        for (const h of fileNode.children) assert.equal(h.command?.command, 'netmem.series.openHunk');
      });
    });
  });

  test('clicking a hunk opens its file at the hunk', async () => {
    const { patches } = bundled();
    const shown = patchNodes(await tree());
    // The last patch's first hunk that starts with an added line.
    const pi = patches.length - 1;
    let target: { fi: number; hi: number; added: { line: number; text: string } } | undefined;
    patches[pi]!.files.forEach((f, fi) =>
      f.hunks.forEach((h, hi) => {
        const added = firstAdded(h);
        if (!target && added) target = { fi, hi, added };
      }),
    );
    assert.ok(target, `no hunk of ${patches[pi]!.name} starts with an added line`);
    const path = patches[pi]!.files[target.fi]!.path;
    const item = shown[pi]!.children[target.fi]!.children[target.hi]!;
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand(item.command!.command, ...(item.command!.arguments ?? []));
    const editor = await waitFor(`an editor on ${path}`, () => {
      const e = vscode.window.activeTextEditor;
      return e?.document.uri.path.endsWith(`/${path}`) ? e : undefined;
    });
    const line = editor.selection.active.line;
    assert.equal(editor.document.lineAt(line).text, target.added.text, `line ${line + 1} of ${editor.document.uri.toString()}`);
    if (editor.document.uri.scheme !== 'file') {
      // Not applied in the checkout: a diff whose modified side is the file after the patch.
      assert.equal(line + 1, target.added.line, 'the patched side is not the whole file at the hunk line');
      const base = vscode.window.visibleTextEditors.find((e) => e !== editor && e.document.uri.path.endsWith(`/${path}`));
      assert.ok(base, 'the diff has no base side');
      const onDisk = readFileSync(join(vscode.workspace.workspaceFolders![0]!.uri.fsPath, path), 'utf8');
      if (!onDisk.includes(target.added.text)) assert.equal(base.document.getText(), onDisk, 'the base side is not the checkout file');
    }
  });

  test('next and previous hunk walk every hunk of the series in order', async () => {
    const { patches } = bundled();
    const order = patches.flatMap((p) => p.files.flatMap((f) => f.hunks.map(() => f.path)));
    assert.ok(order.length > 1);
    const keys: string[] = [];
    const paths: string[] = [];
    // Start before the first hunk: stepping back from the first lands on the last.
    let key = await vscode.commands.executeCommand<string>('netmem.series.nextHunk');
    while (key !== '1/0/0') {
      key = await vscode.commands.executeCommand<string>('netmem.series.nextHunk');
      assert.ok(keys.push(key) < order.length * 2, 'nextHunk never came back to the first hunk');
    }
    keys.length = 0;
    for (let i = 0; i < order.length; i++) {
      keys.push(key);
      const e = await waitFor('the hunk editor', () => vscode.window.activeTextEditor);
      paths.push(order.find((p) => e.document.uri.path.endsWith(`/${p}`)) ?? e.document.uri.toString());
      key = await vscode.commands.executeCommand<string>('netmem.series.nextHunk');
    }
    assert.equal(key, '1/0/0', 'after the last hunk, next goes back to the first');
    assert.equal(new Set(keys).size, order.length, `hunks visited: ${keys.join(' ')}`);
    assert.deepEqual(paths, order);
    const back = await vscode.commands.executeCommand<string>('netmem.series.previousHunk');
    assert.equal(back, keys[keys.length - 1]);
  });

  test('open cover letter shows the cover letter', async () => {
    const { cover } = bundled();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    assert.equal(await vscode.commands.executeCommand('netmem.series.openCoverLetter'), true);
    const editor = await waitFor('the cover letter editor', () => vscode.window.activeTextEditor);
    const text = editor.document.getText();
    assert.ok(text.includes(`Subject: [PATCH 0/${bundled().patches.length}] ${cover.subject}`), text.slice(0, 300));
    assert.ok(text.includes(cover.text.split('\n\n')[1]!.split('\n')[0]!), 'the cover letter body is missing');
  });

  test('copy patch as mbox puts that patch on the clipboard', async () => {
    const { patches } = bundled();
    const diffPart = (p: PatchFacts) => p.text.slice(p.text.indexOf('\ndiff --git '), p.text.lastIndexOf('\n-- \n'));
    for (const index of [2, 1]) {
      await vscode.env.clipboard.writeText('');
      assert.equal(await vscode.commands.executeCommand('netmem.series.copyPatchAsMbox', index), index);
      const mbox = await vscode.env.clipboard.readText();
      const p = patches[index - 1]!;
      assert.match(mbox, /^From \S+ Mon Sep 17 00:00:00 2001\n/);
      assert.ok(mbox.includes(`\nSubject: ${/^Subject: (.*)$/m.exec(p.text)![1]}`), 'the Subject header is missing');
      assert.ok(mbox.includes(diffPart(p)), `the diff of ${p.name} is not on the clipboard`);
      for (const other of patches) if (other !== p) assert.ok(!mbox.includes(diffPart(other)), `${other.name} is on the clipboard too`);
    }
  });

  test('open series refuses a non-series file and takes a folder of patches', async () => {
    const { dir, patches } = bundled();
    const tmp = mkdtempSync(join(tmpdir(), 'netmem-e2e-series-'));
    try {
      const junk = join(tmp, 'notes.txt');
      writeFileSync(junk, 'just some notes\nnothing to see\n');
      assert.equal(await vscode.commands.executeCommand('netmem.openSeries', junk), false);
      assert.equal(patchNodes(await tree()).length, patches.length, 'a refused file changed the series');

      const two = join(tmp, 'two');
      mkdirSync(two);
      for (const p of patches.slice(0, 2)) copyFileSync(join(dir, p.name), join(two, p.name));
      assert.equal(await vscode.commands.executeCommand('netmem.openSeries', two), true);
      const labels = patchNodes(await tree()).map((n) => n.label);
      assert.deepEqual(labels, patches.slice(0, 2).map((p, i) => `${i + 1}/2 ${p.subject}`));
    } finally {
      await vscode.commands.executeCommand('netmem.openSeries', null);
      rmSync(tmp, { recursive: true, force: true });
    }
    assert.equal(patchNodes(await tree()).length, patches.length, 'back to the bundled series');
  });
});
