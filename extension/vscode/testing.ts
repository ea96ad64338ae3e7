// The kernel tests in the Testing view: one item per suite (compile, build, boot, bisect), with the
// results of a run as children as they arrive (objects built, guest programs' TAP tests, KUnit cases,
// kernel troubles, per-patch bisect builds). A run calls the core's runSuite in the extension host;
// cancelling it aborts the run, and the runner kills the process groups of make, gcc and QEMU.
import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import type { RunnerResult, SuiteName } from '../core/kernel/runner';
import { runSuite } from '../core/kernel/runner';
import { CancelledError } from '../core/util/process';
import { log } from './log';
import { runnerOptions } from './tasks';
import { requireTrust } from './trust';
import { kernelDir, onDidChangeKernel } from './workspace';

export const CONTROLLER_ID = 'netmem-kernel-tests';
const SUITE_ITEMS: Array<{ suite: SuiteName; label: string }> = [
  { suite: 'compile', label: 'compile: prepare and the objects the series touches' },
  { suite: 'build', label: 'build: bzImage' },
  { suite: 'boot', label: 'boot: QEMU, guest tests and KUnit' },
  { suite: 'bisect', label: 'bisect: each patch builds' },
];

/** What the last run reported per item (full id `suite` or `suite/result`), newest last. */
export interface RecordedState {
  id: string;
  state: 'started' | 'passed' | 'failed' | 'skipped' | 'errored';
  message?: string;
  durationMs?: number;
}
let lastRun: RecordedState[] = [];

const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');

function suiteOf(item: vscode.TestItem): SuiteName {
  let top = item;
  while (top.parent) top = top.parent;
  return top.id as SuiteName;
}

function sourceUri(file: string, kernel: string): vscode.Uri {
  return vscode.Uri.file(isAbsolute(file) ? file : join(kernel, file));
}

/** The child for a result, made on first sight; named without the suite's own prefix. */
function childFor(ctl: vscode.TestController, parent: vscode.TestItem, r: RunnerResult, kernel: string): vscode.TestItem {
  let child = parent.children.get(r.id);
  if (!child) {
    const prefix = `${parent.id}: `;
    child = ctl.createTestItem(r.id, r.name.startsWith(prefix) ? r.name.slice(prefix.length) : r.name);
    parent.children.add(child);
  }
  if (r.location && !isAbsolute(r.location.file)) {
    // A source line (a BUG's or a compiler error's): the item opens there.
    const uri = sourceUri(r.location.file, kernel);
    if (child.uri?.toString() !== uri.toString()) {
      parent.children.delete(r.id);
      const moved = ctl.createTestItem(r.id, child.label, uri);
      parent.children.add(moved);
      child = moved;
    }
    child.range = new vscode.Range(r.location.line - 1, 0, r.location.line - 1, 0);
  }
  return child;
}

function failureMessage(r: RunnerResult, kernel: string): vscode.TestMessage {
  const parts = [r.message ?? `${r.name} failed`];
  if (r.excerpt?.length) parts.push('', ...r.excerpt);
  const message = new vscode.TestMessage(parts.join('\n'));
  if (r.location) {
    const line = Math.max(0, r.location.line - 1);
    const col = Math.max(0, (r.location.column ?? 1) - 1);
    message.location = new vscode.Location(sourceUri(r.location.file, kernel), new vscode.Position(line, col));
  }
  return message;
}

function fullId(item: vscode.TestItem): string {
  return item.parent ? `${fullId(item.parent)}/${item.id}` : item.id;
}

/** Reports an item's state to the run and keeps it for `netmem.testing.lastRun`. */
function settle(run: vscode.TestRun, item: vscode.TestItem, state: Exclude<RecordedState['state'], 'started'>, message?: vscode.TestMessage, durationMs?: number): void {
  if (state === 'passed') run.passed(item, durationMs);
  else if (state === 'skipped') run.skipped(item);
  else if (state === 'failed') run.failed(item, message!, durationMs);
  else run.errored(item, message!, durationMs);
  const text = message?.message;
  lastRun.push({ id: fullId(item), state, message: typeof text === 'string' ? text : text?.value, durationMs });
}

function report(run: vscode.TestRun, item: vscode.TestItem, r: RunnerResult, kernel: string): void {
  if (r.status === 'pass') settle(run, item, 'passed', undefined, r.durationMs);
  else if (r.status === 'skip') settle(run, item, 'skipped');
  else settle(run, item, 'failed', failureMessage(r, kernel), r.durationMs);
}

/** The suites a request asks for, in the Testing view's order; a child runs its suite. */
function requestedSuites(ctl: vscode.TestController, request: vscode.TestRunRequest): vscode.TestItem[] {
  const wanted = new Set<string>();
  if (request.include?.length) for (const item of request.include) wanted.add(suiteOf(item));
  else ctl.items.forEach((item) => wanted.add(item.id));
  for (const item of request.exclude ?? []) if (!item.parent) wanted.delete(item.id);
  const out: vscode.TestItem[] = [];
  ctl.items.forEach((item) => {
    if (wanted.has(item.id)) out.push(item);
  });
  return out;
}

async function runSuiteItem(ctl: vscode.TestController, run: vscode.TestRun, item: vscode.TestItem, signal: AbortSignal): Promise<void> {
  const suite = item.id as SuiteName;
  const opts = runnerOptions({ suite });
  if (typeof opts === 'string') {
    settle(run, item, 'errored', new vscode.TestMessage(opts));
    return;
  }
  const kernel = opts.kernelDir;
  const out = (text: string) => run.appendOutput(crlf(`${text}\n`));
  run.started(item);
  lastRun.push({ id: suite, state: 'started' });
  item.children.forEach((child) => run.enqueued(child));
  out(`netmem: ${suite} on ${kernel}`);
  log().info(`tests: ${suite} on ${kernel} (Testing view)`);
  try {
    const result = await runSuite({
      ...opts,
      signal,
      onProgress: (m) => {
        out(`netmem: ${m}`);
        log().info(`tests: ${m}`);
      },
      onOutput: (l) => out(l),
      onResult: (r) => report(run, childFor(ctl, item, r, kernel), r, kernel),
    });
    const c = result.counts;
    const summary = `${suite}: ${result.ok ? 'PASSED' : 'FAILED'} (${c.pass} passed, ${c.fail} failed, ${c.skip} skipped)`;
    out(summary);
    log().info(`tests: ${summary}`);
    if (result.ok) settle(run, item, 'passed', undefined, result.durationMs);
    else settle(run, item, 'failed', new vscode.TestMessage(summary), result.durationMs);
  } catch (e) {
    if (e instanceof CancelledError) {
      out(`netmem: ${suite} cancelled; every process it started was stopped`);
      log().info(`tests: ${suite} cancelled`);
      settle(run, item, 'skipped');
      return;
    }
    const message = (e as Error).message;
    out(`netmem: error: ${message}`);
    log().error(`tests: ${suite}: ${message}`);
    settle(run, item, 'errored', new vscode.TestMessage(message));
  }
}

async function runHandler(ctl: vscode.TestController, request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
  if (!requireTrust('Running kernel tests')) return;
  if (!kernelDir()) {
    void vscode.window.showErrorMessage('Netmem: no kernel checkout is linked. Open a kernel tree as the workspace folder or set netmem.kernelPath.');
    return;
  }
  const run = ctl.createTestRun(request, 'Netmem kernel tests');
  lastRun = [];
  const abort = new AbortController();
  const sub = token.onCancellationRequested(() => abort.abort());
  try {
    const suites = requestedSuites(ctl, request);
    for (const item of suites) run.enqueued(item);
    for (const item of suites) {
      if (abort.signal.aborted) settle(run, item, 'skipped');
      else await runSuiteItem(ctl, run, item, abort.signal);
    }
  } finally {
    sub.dispose();
    run.end();
  }
}

function fillSuites(ctl: vscode.TestController): void {
  if (!kernelDir()) {
    ctl.items.replace([]);
    return;
  }
  for (const { suite, label } of SUITE_ITEMS) {
    if (!ctl.items.get(suite)) ctl.items.add(ctl.createTestItem(suite, label));
  }
}

export function activate(ctx: vscode.ExtensionContext): void {
  const ctl = vscode.tests.createTestController(CONTROLLER_ID, 'Netmem kernel tests');
  ctl.createRunProfile('Run kernel tests', vscode.TestRunProfileKind.Run, (request, token) => runHandler(ctl, request, token), true);
  ctl.resolveHandler = async () => fillSuites(ctl);
  ctl.refreshHandler = async () => fillSuites(ctl);
  fillSuites(ctl);
  ctx.subscriptions.push(
    ctl,
    onDidChangeKernel(() => fillSuites(ctl)),
    // Not in the palette: what the last run reported, for scripts and the extension's own tests.
    vscode.commands.registerCommand('netmem.testing.lastRun', (): RecordedState[] => [...lastRun]),
  );
}
