// The e2e stage (`npm run test:e2e`, after `npm run build`):
//   1. scripts/setup-e2e.sh (Debian packages, pinned code-server in test/e2e/.server/; fast when done);
//   2. compiles the mocha suite (test/e2e/suite/) to test/e2e/out/suite/;
//   3. makes the kernel workspace: a pristine copy of the pinned base checkout plus a fixtures
//      folder (lib/kernel.ts);
//   4. runs it with @vscode/test-electron's runTests(), whose "VS Code executable" is
//      test/e2e/launcher (code-server + headless chromium, the real Node extension host), on the
//      copy, twice: trusted (every test file but untrusted*.test.ts), then with workspace trust on
//      and the folder not trusted (only untrusted*.test.ts); the copy is put back to the base
//      before each pass;
//   5. runs the browser round (test/e2e/browser.ts) on the copy, as a user would;
//   6. prints the failures, the time taken and, last and alone on its line, `N passed, N failed`.
// Exits non-zero on any failure. Environment knobs: see launcher.ts, browser.ts, suite/index.ts.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTests, TestRunFailedError } from '@vscode/test-electron';
import { runBrowserRound } from './browser';
import { buildSuite } from './lib/buildSuite';
import { kernelEnv, makeKernelWorkspace, resetKernelWorkspace, type KernelWorkspace } from './lib/kernel';
import { E2E_DIR, ROOT } from './lib/paths';
import type { SuiteResult } from './lib/protocol';
import { errorText, onTerminationSignal, Scope, SIGNAL_EXIT } from './lib/scope';

const LAUNCHER = join(E2E_DIR, 'launcher');
type Pass = 'trusted' | 'untrusted';
/** The trusted pass runs every test file but untrusted*.test.ts; the untrusted pass only those. */
const PASSES: Pass[] = ['trusted', 'untrusted'];
/** The launcher's global timeout per pass (NETMEM_E2E_TIMEOUT overrides). */
const PASS_TIMEOUT_S: Record<Pass, number> = { trusted: 420, untrusted: 180 };
const say = (line: string) => process.stdout.write(`[e2e] ${line}\n`);

interface Failure {
  title: string;
  error: string;
}

async function main(): Promise<number> {
  const started = Date.now();
  const times: string[] = [];
  const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      times.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  };
  let passed = 0;
  const failures: Failure[] = [];
  const notReached: string[] = [];
  let stopping: keyof typeof SIGNAL_EXIT | undefined;
  // While a child process of ours does the work (setup script, launcher), pass the signal on: a
  // SIGTERM sent to this process alone would otherwise not reach them. The browser round runs in
  // this process and handles the signal itself.
  let forward = false;
  const stopSignals = onTerminationSignal((signal) => {
    stopping = signal;
    say(`received ${signal}: stopping (the launcher and browser clean up after themselves)`);
    if (forward) forwardToChildren(signal);
  });

  // 1. setup
  forward = true;
  const setupCode = await timed('setup', () => runInherit('bash', [join(ROOT, 'scripts', 'setup-e2e.sh')]));
  forward = false;
  if (stopping) return finish();
  if (setupCode !== 0) {
    failures.push({ title: 'scripts/setup-e2e.sh', error: `exited with ${setupCode}` });
    return finish();
  }
  if (!existsSync(join(ROOT, 'dist', 'extension.js'))) {
    failures.push({ title: 'build', error: 'dist/extension.js is missing: run npm run build (npm run test:e2e does)' });
    return finish();
  }

  // 2. the suite, each test file on its own (a file that does not compile fails alone)
  const suite = await timed('suite build', buildSuite);
  for (const e of suite.errors) failures.push({ title: `suite: compile ${e.file}`, error: e.error });
  say(`suite compiled: ${suite.built.join(', ') || 'no test files'}`);

  const scope = new Scope('netmem-e2e-run-', say);
  try {
    // 3. the kernel workspace: a pristine copy of the pinned base (lib/kernel.ts)
    const ws = await timed('kernel workspace', () => makeKernelWorkspace(scope, say));
    if (stopping) return finish();

    // 4. the suite in the extension host, through runTests() and the launcher: trusted, then
    //    untrusted (only untrusted*.test.ts), each on the pristine copy
    for (const pass of PASSES) {
      if (stopping) break;
      await resetKernelWorkspace(scope, ws);
      const r = await timed(`suite (${pass})`, () => runPass(pass, suite.entry, ws));
      passed += r.passed;
      failures.push(...r.failures);
      say(`suite (${pass}): ${r.passed} passed, ${r.failures.length} failed`);
    }

    // 5. the browser round, on the same copy put back to the base (a filtered run,
    //    NETMEM_E2E_GREP, leaves it out unless NETMEM_E2E_BROWSER=1)
    const browser = !process.env.NETMEM_E2E_GREP || process.env.NETMEM_E2E_BROWSER === '1';
    if (!browser) say('browser round left out: NETMEM_E2E_GREP is set (NETMEM_E2E_BROWSER=1 runs it too)');
    if (!stopping && browser) {
      await resetKernelWorkspace(scope, ws);
      const round = await timed('browser round', () => runBrowserRound({ workspace: ws }));
      passed += round.passed;
      for (const s of round.steps) if (!s.ok && !s.skipped) failures.push({ title: `browser: ${s.name}`, error: s.error ?? '' });
      // Steps after a failed one do not run; they are listed, not counted.
      notReached.push(...round.steps.filter((s) => s.skipped).map((s) => `browser: ${s.name}`));
    }
  } catch (err) {
    failures.push({ title: 'harness', error: errorText(err) });
  } finally {
    await scope.close();
  }

  async function runPass(pass: Pass, extensionTestsPath: string, ws: KernelWorkspace): Promise<{ passed: number; failures: Failure[] }> {
    const resultFile = join(scope.dir, `suite-result-${pass}.json`);
    const env: Record<string, string> = {
      ...kernelEnv(ws),
      NETMEM_E2E_RESULT: resultFile,
      NETMEM_E2E_PASS: pass,
      NETMEM_E2E_TIMEOUT: process.env.NETMEM_E2E_TIMEOUT ?? String(PASS_TIMEOUT_S[pass]),
    };
    if (pass === 'untrusted') env.NETMEM_E2E_WORKSPACE_TRUST = '1';
    let exitCode = 0;
    forward = true;
    try {
      exitCode = await runTests({
        vscodeExecutablePath: LAUNCHER,
        extensionDevelopmentPath: ROOT,
        extensionTestsPath,
        launchArgs: [ws.kernel],
        extensionTestsEnv: env,
      });
    } catch (err) {
      if (err instanceof TestRunFailedError) {
        exitCode = err.code ?? 1;
      } else {
        exitCode = 1;
        say(`runTests failed: ${errorText(err)}`);
      }
    } finally {
      forward = false;
    }
    const title = `suite[${pass}]`;
    const result = readResult(resultFile);
    if (!result) {
      return {
        passed: 0,
        failures: [{ title, error: `the suite reported no result (launcher exit code ${exitCode}): it did not run to its end` }],
      };
    }
    const out = result.failures.map((f) => ({ title: `${title}: ${f.title}`, error: f.error }));
    if (exitCode !== 0 && result.failed === 0) out.push({ title, error: `the test run exited with ${exitCode} although no test failed` });
    if (result.passed + result.failed === 0 && !process.env.NETMEM_E2E_GREP) out.push({ title, error: 'no test ran' });
    return { passed: result.passed, failures: out };
  }
  return finish();

  function finish(): number {
    stopSignals();
    if (stopping) failures.push({ title: 'stage', error: `stopped by ${stopping}` });
    if (failures.length) {
      say(`${failures.length} failure(s):`);
      for (const f of failures) {
        process.stdout.write(`  ✘ ${f.title}\n`);
        if (f.error) process.stdout.write(`${f.error.split('\n').slice(0, 12).map((l) => `      ${l}`).join('\n')}\n`);
      }
    }
    if (notReached.length) say(`not reached after a failure: ${notReached.join('; ')}`);
    say(`time: ${((Date.now() - started) / 1000).toFixed(1)} s (${times.join(', ')})`);
    process.stdout.write(`${passed} passed, ${failures.length} failed\n`);
    if (stopping) return SIGNAL_EXIT[stopping];
    return failures.length ? 1 : 0;
  }
}

function readResult(file: string): SuiteResult | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SuiteResult;
  } catch {
    return undefined;
  }
}

function runInherit(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.once('error', (err) => {
      say(`${cmd}: ${err.message}`);
      resolve(1);
    });
  });
}

/** Passes a signal on to this process's direct children (runTests' launcher does its own cleanup). */
function forwardToChildren(signal: NodeJS.Signals): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid ..."; comm may contain spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) process.kill(Number(entry), signal);
    } catch {
      // the process went away meanwhile
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    say(`fatal: ${errorText(err)}`);
    process.stdout.write('0 passed, 1 failed\n');
    process.exit(1);
  },
);
