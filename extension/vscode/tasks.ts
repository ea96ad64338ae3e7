// "Run kernel tests" as tasks: a TaskProvider for `type: "netmem"` (one task per suite for the linked
// kernel, and tasks.json entries), and the "Netmem: Run kernel tests" command. A task runs the core's
// runSuite in the extension host behind a pseudoterminal: terminating the task aborts the run, and
// the runner kills the process group of every make, gcc and QEMU it started, whatever the terminal
// does. The terminal shows progress, the build's own output (indented, so that no matcher reads it
// twice), then the report, whose compiler messages ($netmem-gcc) and kernel troubles ($netmem-kernel)
// name files relative to the checkout.
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import * as vscode from 'vscode';
import { KernelError } from '../core/kernel/build';
import { formatText, resultLine, withRoot } from '../core/kernel/report';
import { runSuite, SUITES, type RunnerOptions, type RunnerReport, type SuiteName } from '../core/kernel/runner';
import { CancelledError } from '../core/util/process';
import { log } from './log';
import { requireTrust } from './trust';
import { kernelDir, seriesSource } from './workspace';

export const TASK_TYPE = 'netmem';
export const PROBLEM_MATCHERS = ['$netmem-gcc', '$netmem-kernel'];
/** Exit status of a task: as the CLI's. */
export const EXIT = { passed: 0, failed: 1, error: 2, cancelled: 130 } as const;

export interface NetmemTaskDefinition extends vscode.TaskDefinition {
  type: typeof TASK_TYPE;
  suite: SuiteName;
  kernel?: string;
  buildDir?: string;
  series?: string;
  timeout?: number;
}

const DETAIL: Record<SuiteName, string> = {
  compile: 'make prepare and the objects the series touches',
  build: 'the full bzImage',
  boot: 'build, boot under QEMU, guest tests and KUnit',
  bisect: 'build the base, then each patch in turn on a separate worktree',
  all: 'compile, bisect and boot',
};

export interface SuiteOutcome {
  suite: SuiteName;
  kernel: string;
  exitCode: number;
  report?: RunnerReport;
  error?: string;
}

const finished = new vscode.EventEmitter<SuiteOutcome>();
/** Fires when a netmem task's run ends (passed, failed, could not run, or cancelled). */
export const onDidFinishSuite = finished.event;

function firstFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.[0];
}

/** A path from a task definition or setting: absolute, `~/`, or relative to the workspace folder. */
function workspacePath(p: string, folder = firstFolder()): string {
  const home = process.env.HOME ?? '';
  const withHome = p.startsWith('~/') ? home + p.slice(1) : p;
  if (isAbsolute(withHome)) return withHome;
  return folder ? resolve(folder.uri.fsPath, withHome) : resolve(withHome);
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Runner options for a suite: the definition's fields, else the settings (`netmem.buildDir`, the
 * series source when it is a folder) and the linked kernel. A string says why it cannot run.
 */
export function runnerOptions(def: Partial<NetmemTaskDefinition> & { suite: SuiteName }, folder = firstFolder()): RunnerOptions | string {
  const kernel = def.kernel?.trim() ? workspacePath(def.kernel.trim(), folder) : kernelDir();
  if (!kernel) return 'no kernel checkout is linked: open a kernel tree as the workspace folder or set netmem.kernelPath (Netmem: Select kernel checkout…)';
  const configuredBuild = vscode.workspace.getConfiguration('netmem').get<string>('buildDir', '').trim();
  const buildDir = def.buildDir?.trim() || configuredBuild;
  const series = def.series?.trim() ? workspacePath(def.series.trim(), folder) : seriesSource();
  if (def.series?.trim() && !isDirectory(series)) return `series ${series} is not a folder of patches`;
  if (def.timeout !== undefined && !(typeof def.timeout === 'number' && def.timeout > 0)) return 'timeout must be a positive number of seconds';
  return {
    kernelDir: kernel,
    suite: def.suite,
    buildDir: buildDir ? workspacePath(buildDir, folder) : undefined,
    // An mbox chosen with "Open series…" is not a folder: the bundled series then says which objects to build.
    seriesDir: isDirectory(series) ? series : undefined,
    timeoutMs: def.timeout !== undefined ? def.timeout * 1000 : undefined,
  };
}

const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');

/** One suite run behind a task's terminal. */
class SuiteTerminal implements vscode.Pseudoterminal {
  private readonly writer = new vscode.EventEmitter<string>();
  private readonly closer = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.writer.event;
  readonly onDidClose = this.closer.event;
  private readonly controller = new AbortController();

  constructor(
    private readonly def: NetmemTaskDefinition,
    private readonly folder: vscode.WorkspaceFolder | undefined,
  ) {}

  open(): void {
    void this.run();
  }

  /** The user terminated the task (or closed its terminal): stop make, gcc and QEMU. */
  close(): void {
    this.controller.abort();
  }

  private line(text: string): void {
    this.writer.fire(crlf(`${text}\n`));
  }

  private end(outcome: SuiteOutcome): void {
    finished.fire(outcome);
    this.closer.fire(outcome.exitCode);
    this.writer.dispose();
    this.closer.dispose();
  }

  private async run(): Promise<void> {
    const suite = this.def.suite;
    const opts = SUITES.includes(suite) ? runnerOptions(this.def, this.folder) : `unknown suite '${String(suite)}' (one of ${SUITES.join(', ')})`;
    if (typeof opts === 'string') {
      this.line(`netmem: error: ${opts}`);
      log().error(`tests: ${opts}`);
      this.end({ suite, kernel: '', exitCode: EXIT.error, error: opts });
      return;
    }
    this.line(`netmem: ${suite} on ${opts.kernelDir}`);
    log().info(`tests: ${suite} on ${opts.kernelDir} (task)`);
    try {
      const report = await runSuite({
        ...opts,
        signal: this.controller.signal,
        onProgress: (m) => {
          this.line(`netmem: ${m}`);
          log().info(`tests: ${m}`);
        },
        // Indented: the raw build output names files relative to the O= directory or absolute; the
        // report below names them relative to the checkout, and only that is for the matchers.
        onOutput: (l) => this.line(`  ${l}`),
        onResult: (r) => this.line(resultLine(r)),
      });
      this.line('');
      // The matchers resolve relative paths against matcherBase(); a task on another kernel
      // (tasks.json `kernel`) prints absolute ones instead.
      this.line(formatText(resolve(opts.kernelDir) === resolve(matcherBase()) ? report : withRoot(report, opts.kernelDir)));
      log().info(`tests: ${suite} ${report.ok ? 'passed' : 'failed'} (${report.counts.pass} passed, ${report.counts.fail} failed, ${report.counts.skip} skipped)`);
      this.end({ suite, kernel: opts.kernelDir, exitCode: report.ok ? EXIT.passed : EXIT.failed, report });
    } catch (e) {
      if (e instanceof CancelledError) {
        this.line(`netmem: ${suite} cancelled; every process it started was stopped`);
        log().info(`tests: ${suite} cancelled`);
        this.end({ suite, kernel: opts.kernelDir, exitCode: EXIT.cancelled });
        return;
      }
      const message = (e as Error).message;
      const hint = e instanceof KernelError && e.hint ? ` (${e.hint})` : '';
      this.line(`netmem: error: ${message}${hint}`);
      log().error(`tests: ${suite}: ${message}${hint}`);
      this.end({ suite, kernel: opts.kernelDir, exitCode: EXIT.error, error: message + hint });
    }
  }
}

function makeTask(def: NetmemTaskDefinition, scope: vscode.WorkspaceFolder | vscode.TaskScope.Workspace, name: string): vscode.Task {
  const folder = typeof scope === 'object' ? scope : undefined;
  const execution = new vscode.CustomExecution(async (resolved) => new SuiteTerminal({ ...def, ...(resolved as NetmemTaskDefinition) }, folder));
  const task = new vscode.Task(def, scope, name, TASK_TYPE, execution, PROBLEM_MATCHERS);
  task.group = vscode.TaskGroup.Test;
  task.detail = DETAIL[def.suite] ?? undefined;
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, clear: true };
  return task;
}

function scopeFor(kernel: string | undefined): vscode.WorkspaceFolder | vscode.TaskScope.Workspace {
  const uri = kernel ? vscode.Uri.file(kernel) : undefined;
  return (uri && vscode.workspace.getWorkspaceFolder(uri)) ?? firstFolder() ?? vscode.TaskScope.Workspace;
}

/** The netmem tasks for the linked kernel: one per suite; none in an untrusted workspace. */
export function provideTasks(): vscode.Task[] {
  if (!vscode.workspace.isTrusted) return [];
  const kernel = kernelDir();
  if (!kernel) return [];
  return SUITES.map((suite) => makeTask({ type: TASK_TYPE, suite }, scopeFor(kernel), suite));
}

/** A tasks.json entry of type netmem, made runnable; undefined when untrusted or malformed. */
export function resolveTask(task: vscode.Task): vscode.Task | undefined {
  if (!vscode.workspace.isTrusted) return undefined;
  const def = task.definition as NetmemTaskDefinition;
  if (def.type !== TASK_TYPE || !SUITES.includes(def.suite)) return undefined;
  const scope = typeof task.scope === 'object' ? task.scope : scopeFor(kernelDir());
  return makeTask(def, scope, task.name);
}

/** Waits for the outcome of a netmem task run; undefined when it ended without one. */
function outcomeOf(suite: SuiteName, execution: Thenable<vscode.TaskExecution>): Promise<SuiteOutcome | undefined> {
  return new Promise((resolvePromise, reject) => {
    let outcome: SuiteOutcome | undefined;
    const subs: vscode.Disposable[] = [];
    const done = (value: SuiteOutcome | undefined) => {
      for (const s of subs) s.dispose();
      resolvePromise(value);
    };
    subs.push(
      onDidFinishSuite((o) => {
        if (o.suite === suite) outcome = o;
      }),
      vscode.tasks.onDidEndTask((e) => {
        const d = e.execution.task.definition;
        if (d.type === TASK_TYPE && d.suite === suite) done(outcome);
      }),
    );
    execution.then(undefined, (err) => {
      for (const s of subs) s.dispose();
      reject(err);
    });
  });
}

function describe(o: SuiteOutcome): string {
  if (!o.report) return o.error ?? `exit status ${o.exitCode}`;
  const c = o.report.counts;
  const counts = `${c.pass} passed, ${c.fail} failed, ${c.skip} skipped in ${(o.report.durationMs / 1000).toFixed(0)} s`;
  const firstFail = o.report.results.find((r) => r.status === 'fail');
  return `${o.report.ok ? 'PASSED' : 'FAILED'} (${counts})${firstFail ? `: ${firstFail.name}` : ''}`;
}

/** "Netmem: Run kernel tests": pick a suite, run its task, show the verdict. */
async function runTests(suiteArg?: unknown): Promise<SuiteOutcome | undefined> {
  if (!requireTrust('Running kernel tests')) return undefined;
  if (!kernelDir()) {
    const select = 'Select Kernel Checkout…';
    const pick = await vscode.window.showErrorMessage('Netmem: no kernel checkout is linked. Open a kernel tree as the workspace folder or select one.', select);
    if (pick === select) void vscode.commands.executeCommand('netmem.selectKernel');
    return undefined;
  }
  let suite: SuiteName | undefined;
  if (typeof suiteArg === 'string' && (SUITES as readonly string[]).includes(suiteArg)) suite = suiteArg as SuiteName;
  else {
    const picked = await vscode.window.showQuickPick(
      SUITES.map((s) => ({ label: s, description: DETAIL[s] })),
      { title: 'Netmem: Run kernel tests', placeHolder: 'Which suite?' },
    );
    suite = picked?.label;
  }
  if (!suite) return undefined;
  const task = provideTasks().find((t) => t.definition.suite === suite);
  if (!task) return undefined;
  const execution = vscode.tasks.executeTask(task);
  const outcome = await outcomeOf(suite, execution);
  if (!outcome) {
    void vscode.window.showInformationMessage(`Netmem: ${suite} was stopped before it finished.`);
    return undefined;
  }
  const text = `Netmem: ${suite} ${describe(outcome)}`;
  if (outcome.exitCode === EXIT.passed) void vscode.window.showInformationMessage(text);
  else if (outcome.exitCode === EXIT.cancelled) void vscode.window.showInformationMessage(`Netmem: ${suite} cancelled.`);
  else {
    const show = 'Show Log';
    void vscode.window.showErrorMessage(text, show).then((p) => p === show && log().show(true));
  }
  return outcome;
}

/** The directory the problem matchers resolve relative paths against. */
function matcherBase(): string {
  return kernelDir() ?? firstFolder()?.uri.fsPath ?? process.cwd();
}

export function activate(ctx: vscode.ExtensionContext): void {
  ctx.subscriptions.push(
    finished,
    vscode.tasks.registerTaskProvider(TASK_TYPE, { provideTasks, resolveTask }),
    vscode.commands.registerCommand('netmem.runTests', runTests),
    // The problem matchers' file prefix (`${command:netmem.tasks.kernelDir}`): the linked checkout,
    // else the workspace folder, so that checkout-relative paths resolve when netmem.kernelPath is empty.
    vscode.commands.registerCommand('netmem.tasks.kernelDir', matcherBase),
    // Not in the palette: the names of the tasks the provider gives now (Restricted Mode: none).
    vscode.commands.registerCommand('netmem.tasks.provided', () => provideTasks().map((t) => t.name)),
  );
}
