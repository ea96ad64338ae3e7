// Entry point of the end-to-end suite inside the extension host: VS Code requires the compiled
// file (test/e2e/out/suite/index.js) and awaits run(); a rejection makes the test run exit 1.
// Runs unchanged in code-server (through test/e2e/launcher) and in desktop VS Code.
//
// Environment (set by test/e2e/run.ts through runTests' extensionTestsEnv and the launcher):
//   NETMEM_E2E_RESULT=/abs/file.json  write the counts and failures there as JSON
//   NETMEM_E2E_RELAY=1                prefix every reporter line with RELAY_PREFIX, so the
//                                     launcher can tell the suite's output from the workbench's
//                                     own log lines (both reach it through the same channel)
//   NETMEM_E2E_GREP=pattern           run only the tests whose full title matches
//   NETMEM_E2E_PASS=trusted|untrusted which pass this is: `untrusted` runs only the files named
//                                     untrusted*.test.js and requires an untrusted workspace,
//                                     `trusted` runs every other file and requires a trusted one;
//                                     unset: every file, whatever the trust
//   NETMEM_E2E_KERNEL, NETMEM_E2E_FIXTURES, NETMEM_E2E_BASE_SOURCE: see lib/kernel.ts (read by
//                                     the tests themselves)
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';
import * as vscode from 'vscode';
import { RELAY_PREFIX, type SuiteResult } from '../lib/protocol';

type Pass = 'trusted' | 'untrusted';

const isUntrustedFile = (file: string) => /^untrusted.*\.test\.js$/.test(file);

function currentPass(): Pass | undefined {
  const pass = process.env.NETMEM_E2E_PASS;
  if (pass === undefined || pass === '') return undefined;
  if (pass === 'trusted' || pass === 'untrusted') return pass;
  throw new Error(`NETMEM_E2E_PASS must be trusted or untrusted, not ${pass}`);
}

/** The compiled test files of this pass. */
function testFiles(pass: Pass | undefined): string[] {
  const all = readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();
  if (pass === 'untrusted') return all.filter(isUntrustedFile);
  if (pass === 'trusted') return all.filter((f) => !isUntrustedFile(f));
  return all;
}

export function run(): Promise<void> {
  // Stack traces of the bundled tests (inline source maps) and of dist/extension.js point at the .ts.
  process.setSourceMapsEnabled(true);
  if (process.env.NETMEM_E2E_RELAY === '1') {
    const base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
    const original = base.consoleLog;
    base.consoleLog = (...args: unknown[]) => {
      const text = format(...args);
      original(text.split('\n').map((line) => RELAY_PREFIX + line).join('\n'));
    };
  }
  const result: SuiteResult = { passed: 0, failed: 0, pending: 0, failures: [], durationMs: 0 };
  const started = Date.now();
  // The harness itself: a pass that does not run where it claims to proves nothing.
  let pass: Pass | undefined;
  let files: string[];
  try {
    pass = currentPass();
    files = testFiles(pass);
    if (pass && vscode.workspace.isTrusted !== (pass === 'trusted')) {
      throw new Error(`the ${pass} pass runs in a workspace that is ${vscode.workspace.isTrusted ? 'trusted' : 'not trusted'}`);
    }
    if (pass && files.length === 0) throw new Error(`the ${pass} pass has no test files (${pass === 'untrusted' ? 'untrusted*.test.ts' : '*.test.ts'}) in test/e2e/suite/`);
  } catch (err) {
    result.failed++;
    result.failures.push({ title: 'the suite harness', error: err instanceof Error ? err.message : String(err) });
    writeResult(result);
    return Promise.reject(err);
  }
  const mocha = new Mocha({ ui: 'tdd', color: false, reporter: 'spec', timeout: 60_000, slow: 5_000 });
  if (process.env.NETMEM_E2E_GREP) mocha.grep(process.env.NETMEM_E2E_GREP);
  for (const file of files) mocha.addFile(join(__dirname, file));
  return new Promise<void>((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        result.durationMs = Date.now() - started;
        writeResult(result);
        if (failures > 0) reject(new Error(`${failures} end-to-end test(s) failed`));
        else resolve();
      });
      runner.on('pass', () => result.passed++);
      runner.on('pending', () => result.pending++);
      runner.on('fail', (test, err: unknown) => {
        result.failed++;
        result.failures.push({
          title: test.fullTitle(),
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
      });
    } catch (err) {
      // Loading a test file threw: nothing ran.
      result.failed++;
      result.failures.push({ title: 'loading the suite', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      writeResult(result);
      reject(err);
    }
  });
}

function writeResult(result: SuiteResult): void {
  const file = process.env.NETMEM_E2E_RESULT;
  if (file) writeFileSync(file, JSON.stringify(result, null, 2));
}
