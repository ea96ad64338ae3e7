// The Testing view's "Netmem kernel tests": running the compile suite through the workbench's test
// service (as the Run button does) builds the workspace kernel and reports the suite and each of its
// steps as passed.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const CONTROLLER = 'netmem-kernel-tests';
const RUN_GROUP = 2; // TestRunProfileKind.Run in the workbench's numbering

interface RecordedState {
  id: string;
  state: 'started' | 'passed' | 'failed' | 'skipped' | 'errored';
  message?: string;
  durationMs?: number;
}

async function lastRun(): Promise<RecordedState[]> {
  return (await vscode.commands.executeCommand<RecordedState[]>('netmem.testing.lastRun')) ?? [];
}

suite('netmem Testing view', () => {
  test('a run of the compile suite reports the suite and its children as passed', async function () {
    if (!vscode.workspace.isTrusted) this.skip();
    this.timeout(420_000);
    await vscode.extensions.getExtension('netmem-series.netmem-series')?.activate();
    await vscode.commands.executeCommand('vscode.runTestsById', RUN_GROUP, `${CONTROLLER}\0compile`);
    const deadline = Date.now() + 400_000;
    let states: RecordedState[] = [];
    while (Date.now() < deadline) {
      states = await lastRun();
      if (states.some((s) => s.id === 'compile' && s.state !== 'started')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(states[0]?.id, 'compile', 'the run started with the compile suite');
    const suiteState = states.find((s) => s.id === 'compile' && s.state !== 'started');
    assert.ok(suiteState, `the compile item never finished (${JSON.stringify(states)})`);
    assert.equal(suiteState.state, 'passed', suiteState.message);
    const children = states.filter((s) => s.id.startsWith('compile/'));
    assert.ok(children.some((s) => s.id === 'compile/compile/prepare'), `no 'make prepare' child: ${children.map((s) => s.id).join(', ')}`);
    assert.ok(children.some((s) => /^compile\/compile\/.+\.o$/.test(s.id)), 'no object of the series was built');
    for (const c of children) assert.equal(c.state, 'passed', `${c.id}: ${c.message ?? ''}`);
    assert.ok(children.every((c) => typeof c.durationMs === 'number'), 'every child has a duration');
    // Only the suite that was asked for ran.
    assert.ok(!states.some((s) => s.id === 'boot' || s.id === 'bisect'));
  });
});
