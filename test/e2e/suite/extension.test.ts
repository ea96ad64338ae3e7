// The extension in the real extension host: activation, command registration against the
// manifest, and the doctor command end to end (the WASM C grammar loads inside the host).
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { waitFor } from './seriesFacts';

const EXTENSION_ID = 'netmem-series.netmem-series';

interface ManifestCommand {
  command: string;
  title: string;
  category?: string;
}

interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded in the extension host`);
  return ext;
}

/** package.json as it is on disk now (not a copy taken at build time). */
function manifestCommands(): ManifestCommand[] {
  const manifest = JSON.parse(readFileSync(join(extension().extensionPath, 'package.json'), 'utf8')) as {
    contributes?: { commands?: ManifestCommand[] };
  };
  const commands = manifest.contributes?.commands ?? [];
  assert.ok(commands.length > 0, 'package.json contributes no commands');
  return commands;
}

suite('netmem-series in the extension host', () => {
  test('the development extension is loaded from this repository', () => {
    const ext = extension();
    assert.equal(ext.packageJSON.publisher, 'netmem-series');
    assert.equal(ext.packageJSON.name, 'netmem-series');
  });

  test('opening a C file activates it (onLanguage:c) without an error', async () => {
    // The C fixture outside the checkout (lib/kernel.ts), as a user opens a stray file.
    const fixtures = process.env.NETMEM_E2E_FIXTURES;
    assert.ok(fixtures, 'NETMEM_E2E_FIXTURES is not set: run the suite through test/e2e/run.ts');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(fixtures, 'frag.c')));
    assert.equal(doc.languageId, 'c');
    await vscode.window.showTextDocument(doc);
    await waitFor('the extension to become active after opening a C file', () => extension().isActive, 15_000);
    // isActive is also true after a failed activation; activate() then rejects with its error.
    await extension().activate();
  });

  test('the workspace folder is the kernel copy of the harness (a kernel tree)', async () => {
    const kernel = process.env.NETMEM_E2E_KERNEL;
    assert.ok(kernel, 'NETMEM_E2E_KERNEL is not set: run the suite through test/e2e/run.ts');
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.deepEqual(folders.map((f) => f.uri.fsPath), [kernel]);
    for (const f of ['Makefile', 'Kconfig', 'include/linux/skbuff.h']) {
      await vscode.workspace.fs.stat(vscode.Uri.file(join(kernel, f)));
    }
  });

  test('activate() resolves (activation does not throw)', async () => {
    const ext = extension();
    // Rejects with the activation error if activate() threw, whenever that happened.
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  test('every command in package.json contributes.commands is registered', async () => {
    await extension().activate();
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = manifestCommands().map((c) => c.command);
    const missing = contributed.filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed in package.json but not registered: ${missing.join(', ')}`);
  });

  test('the walkthrough netmem.start: link → apply → check → run tests, each step a registered command and a shipped page', async () => {
    const ext = extension();
    const manifest = JSON.parse(readFileSync(join(ext.extensionPath, 'package.json'), 'utf8')) as {
      contributes?: { walkthroughs?: Array<{ id: string; steps: Array<{ id: string; description: string; media: { markdown?: string } }> }> };
    };
    const walkthrough = manifest.contributes?.walkthroughs?.find((w) => w.id === 'netmem.start');
    assert.ok(walkthrough, 'package.json contributes no walkthrough netmem.start');
    const commands = walkthrough.steps.map((s) => /\(command:([\w.]+)\)/.exec(s.description)?.[1]);
    assert.deepEqual(commands, ['netmem.selectKernel', 'netmem.applySeries', 'netmem.checkWorkspace', 'netmem.runTests']);
    await ext.activate();
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const c of commands) assert.ok(registered.has(c!), `the walkthrough's command ${c} is not registered`);
    for (const step of walkthrough.steps) {
      assert.ok(step.media.markdown, `step ${step.id} has no markdown page`);
      const page = readFileSync(join(ext.extensionPath, step.media.markdown), 'utf8');
      assert.match(page, /^# /, `${step.media.markdown} has no heading`);
      // Images the pages show must be files that ship with the extension.
      for (const m of page.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) {
        const image = join(ext.extensionPath, step.media.markdown, '..', m[1]!);
        await vscode.workspace.fs.stat(vscode.Uri.file(image)).then(undefined, () => assert.fail(`${step.media.markdown} shows ${m[1]}, which does not exist`));
      }
    }
  });

  test('netmem.doctor is in the palette as "Netmem: Check environment"', () => {
    const doctor = manifestCommands().find((c) => c.command === 'netmem.doctor');
    assert.ok(doctor, 'package.json does not contribute netmem.doctor');
    assert.equal(`${doctor.category}: ${doctor.title}`, 'Netmem: Check environment');
  });

  test('netmem.doctor returns its checks, the C grammar ok, and shows the report', async () => {
    await extension().activate();
    const report = await vscode.commands.executeCommand<DoctorReport>('netmem.doctor');
    assert.ok(report && typeof report === 'object', `netmem.doctor returned ${String(report)}`);
    assert.equal(typeof report.ok, 'boolean');
    assert.ok(Array.isArray(report.checks) && report.checks.length > 0, 'the report has no checks');
    for (const c of report.checks) {
      assert.equal(typeof c.name, 'string');
      assert.equal(typeof c.ok, 'boolean');
      assert.equal(typeof c.detail, 'string');
    }
    const grammar = report.checks.find((c) => c.name === 'grammar');
    assert.ok(grammar, `no "grammar" check among: ${report.checks.map((c) => c.name).join(', ')}`);
    assert.equal(grammar.ok, true, `grammar check failed: ${grammar.detail}`);

    await waitFor(
      'the doctor report to be the active editor',
      () => (vscode.window.activeTextEditor?.document.getText() ?? '').includes('# Netmem environment'),
      15_000,
    );
    const shown = vscode.window.activeTextEditor!.document;
    assert.equal(shown.uri.scheme, 'netmem-doctor', 'the report is a read-only document of its own, not an untitled file to save');
    assert.equal(shown.isDirty, false);
    const text = shown.getText();
    assert.match(text, /^# Netmem environment$/m);
    assert.match(text, /^- C grammar \(tree-sitter-c\): ok/m);
  });
});
