// The netmem tasks in the real workbench, on the workspace's kernel checkout: the provider lists the
// five suites, the problem matchers put compiler and kernel lines on files of the checkout, the
// compile task builds and exits 0, and terminating a running build leaves no make, gcc or QEMU.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { defaultBuildDir } from '../../../extension/core/kernel/build';

const SUITES = ['compile', 'build', 'boot', 'bisect', 'all'];

function kernelFolder(): vscode.WorkspaceFolder {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the e2e workspace has no folder');
  return folder;
}

async function netmemTasks(): Promise<vscode.Task[]> {
  await vscode.extensions.getExtension('netmem-series.netmem-series')?.activate();
  return vscode.tasks.fetchTasks({ type: 'netmem' });
}

/** The exit code of the next run of a task matching `pick` (onDidEndTaskProcess). */
function nextExit(pick: (t: vscode.Task) => boolean, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`no task ended within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const sub = vscode.tasks.onDidEndTaskProcess((e) => {
      if (!pick(e.execution.task)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(e.exitCode);
    });
  });
}

interface Proc {
  pid: number;
  cmd: string;
  cwd: string;
}

/** Processes working on the build directory: make (O=dir in its command line), gcc and cc1 (cwd). */
function buildProcesses(buildDir: string): Proc[] {
  const out: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        /* gone or a kernel thread */
      }
      if (cmd && (cmd.includes(buildDir) || cwd === buildDir || cwd.startsWith(`${buildDir}/`))) out.push({ pid, cmd: cmd.slice(0, 160), cwd });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

suite('netmem tasks', () => {
  test('the task provider lists one netmem task per suite for the workspace kernel', async function () {
    if (!vscode.workspace.isTrusted) this.skip();
    const tasks = await netmemTasks();
    assert.deepEqual(tasks.map((t) => t.definition.suite).sort(), [...SUITES].sort());
    for (const t of tasks) {
      assert.equal(t.source, 'netmem');
      assert.equal(t.name, t.definition.suite);
      assert.equal(t.group?.id, vscode.TaskGroup.Test.id, `${t.name} is in the test group`);
      assert.deepEqual(t.problemMatchers, ['$netmem-gcc', '$netmem-kernel']);
      assert.ok(t.execution instanceof vscode.CustomExecution, `${t.name} runs in the extension host`);
    }
  });

  test('$netmem-gcc and $netmem-kernel put checkout-relative lines on files of the linked kernel', async function () {
    if (!vscode.workspace.isTrusted) this.skip();
    this.timeout(60_000);
    await netmemTasks();
    const kernel = kernelFolder().uri.fsPath;
    // Exactly the lines the runner prints (formatDiagnostic, problemLine), from a plain process.
    const lines = [
      "net/core/skbuff.c:123:17: warning: unused variable 'netmem_e2e' [-Wunused-variable]",
      'net/kcm/kcmsock.c:909: [bug] kernel BUG at net/kcm/kcmsock.c:909!',
    ];
    const task = new vscode.Task(
      { type: 'netmem-e2e-echo' },
      kernelFolder(),
      'matchers',
      'netmem-e2e',
      new vscode.ProcessExecution('/usr/bin/printf', ['%s\\n%s\\n', ...lines]),
      ['$netmem-gcc', '$netmem-kernel'],
    );
    const ended = nextExit((t) => t.name === 'matchers', 30_000);
    await vscode.tasks.executeTask(task);
    assert.equal(await ended, 0);
    const skbuff = vscode.Uri.file(join(kernel, 'net/core/skbuff.c'));
    const kcm = vscode.Uri.file(join(kernel, 'net/kcm/kcmsock.c'));
    const gcc = await until('the gcc problem', () => vscode.languages.getDiagnostics(skbuff).find((d) => d.message.includes('netmem_e2e')), 15_000);
    assert.equal(gcc.severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(gcc.range.start.line, 122);
    assert.equal(gcc.range.start.character, 16);
    const bug = await until('the kernel problem', () => vscode.languages.getDiagnostics(kcm).find((d) => d.message.includes('kernel BUG')), 15_000);
    assert.equal(bug.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(bug.range.start.line, 908);
  });

  test('the compile task builds the workspace kernel and exits 0', async function () {
    if (!vscode.workspace.isTrusted) this.skip();
    this.timeout(420_000);
    const compile = (await netmemTasks()).find((t) => t.definition.suite === 'compile');
    assert.ok(compile, 'no compile task');
    const ended = nextExit((t) => t.definition.type === 'netmem' && t.definition.suite === 'compile', 400_000);
    await vscode.tasks.executeTask(compile);
    assert.equal(await ended, 0, 'the compile task failed (see the Netmem log)');
  });

  test('terminating a running build task leaves no make, gcc or QEMU behind', async function () {
    if (!vscode.workspace.isTrusted) this.skip();
    this.timeout(300_000);
    const build = (await netmemTasks()).find((t) => t.definition.suite === 'build');
    assert.ok(build, 'no build task');
    const buildDir = defaultBuildDir(kernelFolder().uri.fsPath);
    assert.deepEqual(buildProcesses(buildDir), [], 'something builds in the build directory already');
    const ended = nextExit((t) => t.definition.type === 'netmem' && t.definition.suite === 'build', 240_000);
    const execution = await vscode.tasks.executeTask(build);
    // Wait until the compiler itself runs (a grandchild of make), then terminate the task.
    await until('a compiler in the build directory', () => (buildProcesses(buildDir).some((p) => /\b(cc1|gcc|ccache)\b/.test(p.cmd)) ? true : undefined), 180_000, 100);
    execution.terminate();
    const code = await ended;
    assert.notEqual(code, 0, 'a terminated build does not pass');
    const left = await until(
      'every build process to exit',
      () => {
        const procs = buildProcesses(buildDir);
        return procs.length === 0 ? procs : undefined;
      },
      15_000,
    ).catch(() => buildProcesses(buildDir));
    assert.deepEqual(left, [], `still running after the task was terminated:\n${left.map((p) => `${p.pid} ${p.cmd}`).join('\n')}`);
  });
});
