// A stand-in for the VS Code executable that @vscode/test-electron's runTests() spawns: it runs the
// extension test suite in the real (Node) extension host of a code-server, shown in headless
// chromium. Started through the `launcher` shell script beside this file.
//
// runTests() spawns `<vscodeExecutablePath> ...launchArgs --no-sandbox --disable-gpu-sandbox
// --disable-updates --skip-welcome --skip-release-notes --disable-workspace-trust
// --extensionTestsPath=T --extensionDevelopmentPath=D [--extensions-dir=… --user-data-dir=…]`
// with `extensionTestsEnv` merged into the environment. This launcher reads the two paths and the
// first positional argument (the folder to open), ignores the desktop-only flags (it always uses
// fresh user-data/extensions dirs of its own), and:
//   1. starts code-server on a free 127.0.0.1 port in a fresh temp dir (lib/codeServer.ts);
//   2. launches headless chromium (lib/chromium.ts) and exposes codeAutomationLog/codeAutomationExit,
//      through which the workbench reports the suite's output and its exit code;
//   3. opens /?folder=…&payload=[["extensionDevelopmentPath","vscode-remote://…"],
//      ["extensionTestsPath","vscode-remote://…"]];
//   4. relays the suite's output to stdout and exits with the suite's exit code.
// Every exit path (end of suite, failure, global timeout, SIGINT/SIGTERM/SIGHUP) closes the browser,
// kills code-server's process group and removes the temp dir.
//
// Own options (flag or environment):
//   --netmem-workspace-trust      | NETMEM_E2E_WORKSPACE_TRUST=1  keep workspace trust on (omit
//                                   --disable-workspace-trust); the folder then opens restricted
//   --netmem-timeout=SECONDS      | NETMEM_E2E_TIMEOUT=SECONDS    global timeout (default 300)
//   --netmem-verbose              | NETMEM_E2E_VERBOSE=1          also print code-server's log and
//                                                                 all browser console messages
import { mkdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from './lib/chromium';
import { startCodeServer } from './lib/codeServer';
import { OUTPUT_DIR } from './lib/paths';
import { RELAY_PREFIX } from './lib/protocol';
import { errorText, onTerminationSignal, removeOldScreenshots, Scope, SIGNAL_EXIT, sleep } from './lib/scope';

interface LauncherOptions {
  extensionDevelopmentPaths: string[];
  extensionTestsPath: string;
  folder: string | undefined;
  workspaceTrust: boolean;
  timeoutMs: number;
  verbose: boolean;
}

interface Outcome {
  code: number;
  reason?: string;
  screenshot?: boolean;
}

/** Desktop flags that take their value as the next argument when not written `--flag=value`. */
const FLAGS_WITH_VALUE = new Set([
  'user-data-dir', 'extensions-dir', 'locale', 'log', 'logsPath', 'crash-reporter-directory',
  'inspect-extensions', 'inspect-brk-extensions', 'enable-proposed-api', 'profile', 'sync',
]);

const say = (line: string) => process.stderr.write(`[launcher] ${line}\n`);

function parseLauncherArgs(argv: string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): LauncherOptions {
  const devPaths: string[] = [];
  let testsPath: string | undefined;
  let folder: string | undefined;
  let workspaceTrust = env.NETMEM_E2E_WORKSPACE_TRUST === '1';
  let timeoutS = Number(env.NETMEM_E2E_TIMEOUT || 300);
  let verbose = env.NETMEM_E2E_VERBOSE === '1';
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      folder ??= abs(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const takeValue = (): string => {
      if (eq >= 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (name) {
      case 'extensionDevelopmentPath':
        devPaths.push(abs(takeValue()));
        break;
      case 'extensionTestsPath':
        testsPath = abs(takeValue());
        break;
      case 'folder-uri':
        folder ??= new URL(takeValue()).pathname;
        break;
      case 'netmem-workspace-trust':
        workspaceTrust = true;
        break;
      case 'netmem-timeout':
        timeoutS = Number(takeValue());
        break;
      case 'netmem-verbose':
        verbose = true;
        break;
      default:
        if (eq < 0 && FLAGS_WITH_VALUE.has(name)) i++; // skip its value
    }
  }
  if (!testsPath) throw new Error('missing --extensionTestsPath=… (the compiled suite entry)');
  if (!devPaths.length) throw new Error('missing --extensionDevelopmentPath=…');
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new Error(`bad timeout: ${timeoutS}`);
  return {
    extensionDevelopmentPaths: devPaths,
    extensionTestsPath: testsPath,
    folder,
    workspaceTrust,
    timeoutMs: timeoutS * 1000,
    verbose,
  };
}

async function main(): Promise<number> {
  const started = Date.now();
  let opts: LauncherOptions;
  try {
    opts = parseLauncherArgs(process.argv.slice(2), process.env);
  } catch (err) {
    say(`error: ${errorText(err)}`);
    return 2;
  }
  removeOldScreenshots('launcher-');
  const scope = new Scope('netmem-e2e-launcher-', say);
  // Whatever this process (playwright) puts in the temp dir lands in the scope and goes with it.
  const ownTmp = join(scope.dir, 'tmp');
  mkdirSync(ownTmp);
  process.env.TMPDIR = ownTmp;

  let settle!: (outcome: Outcome) => void;
  const outcome = new Promise<Outcome>((r) => {
    let done = false;
    settle = (o) => {
      if (!done) (done = true), r(o);
    };
  });
  const removeSignalHandlers = onTerminationSignal((signal) =>
    settle({ code: SIGNAL_EXIT[signal], reason: `received ${signal}: stopping` }),
  );
  // If whoever started us goes away without a signal reaching us, stop too.
  const parent = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid !== parent) settle({ code: 1, reason: `the parent process ${parent} is gone: stopping` });
  }, 500);
  const timer = setTimeout(
    () =>
      settle({
        code: 1,
        reason: `global timeout: the suite did not report its end within ${opts.timeoutMs / 1000} s`,
        screenshot: true,
      }),
    opts.timeoutMs,
  );

  const state: { page?: Page } = {};
  const session = runSession(scope, opts, settle, state).catch((err) => {
    if (!scope.closed) settle({ code: 1, reason: `launcher failed: ${errorText(err)}`, screenshot: true });
  });

  const result = await outcome;
  clearTimeout(timer);
  clearInterval(parentWatch);
  if (result.reason) say(result.reason);
  if (result.screenshot && state.page) await screenshot(state.page, 'launcher-failure');
  await scope.close();
  // The session notices the closed scope (its waits are aborted); cleanups it registers meanwhile
  // run at once, and a second close() waits for them.
  await Promise.race([session, sleep(10_000)]);
  await scope.close();
  // After the server has stopped, so that its last lines are in.
  if (result.code !== 0) tail.dump();
  removeSignalHandlers();
  say(`exit ${result.code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result.code;
}

async function runSession(
  scope: Scope,
  opts: LauncherOptions,
  settle: (o: Outcome) => void,
  state: { page?: Page },
): Promise<void> {
  if (opts.folder && !statSync(opts.folder, { throwIfNoEntry: false })) {
    throw new Error(`the folder to open does not exist: ${opts.folder}`);
  }
  const server = await startCodeServer(scope, {
    workspaceTrust: opts.workspaceTrust,
    // The extension host inherits the server's environment: tell the suite to mark its lines.
    env: { NETMEM_E2E_RELAY: '1' },
    log: (line) => (opts.verbose ? say(`code-server: ${line}`) : tail.push(`code-server: ${line}`)),
  });
  say(`code-server on ${server.origin}${opts.workspaceTrust ? ' (workspace trust enabled)' : ''}`);
  const { page } = await launchChromium(scope);
  state.page = page;

  // The workbench calls these while a test run is under way (window.codeAutomationLog/Exit): the
  // first carries the workbench's log and the extension host's console, the second the exit code.
  await page.exposeFunction('codeAutomationLog', (level: string, args: unknown) => {
    // The workbench passes the logged arguments as an array.
    const message = Array.isArray(args) ? args.map(String).join(' ') : String(args);
    let other = false;
    for (const line of message.split('\n')) {
      if (line.startsWith(RELAY_PREFIX)) process.stdout.write(`${line.slice(RELAY_PREFIX.length)}\n`);
      else other = true;
    }
    if (!other) return;
    if (opts.verbose) say(`workbench ${level}: ${message}`);
    else tail.push(`workbench ${level}: ${message}`);
  });
  await page.exposeFunction('codeAutomationExit', (code: unknown) => {
    settle({ code: typeof code === 'number' ? code : 1 });
  });
  page.on('console', (msg) => {
    if (opts.verbose) say(`console.${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => {
    if (opts.verbose) say(`page error: ${err.message}`);
    else tail.push(`page error: ${err.message}`);
  });
  page.on('crash', () => settle({ code: 1, reason: 'the workbench page crashed' }));
  page.on('close', () => settle({ code: 1, reason: 'the workbench page closed before the suite ended' }));

  const payload: Array<[string, string]> = [
    ...opts.extensionDevelopmentPaths.map((p): [string, string] => ['extensionDevelopmentPath', server.remoteUri(p)]),
    ['extensionTestsPath', server.remoteUri(opts.extensionTestsPath)],
  ];
  const url = server.workbenchUrl(opts.folder, payload);
  if (opts.verbose) say(`opening ${url}`);
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
}

/** The last lines of code-server's and the workbench's own log, shown when the run fails. */
class Tail {
  private readonly lines: string[] = [];
  constructor(private readonly max: number) {}
  push(message: string): void {
    // First lines only: the stacks of the workbench's own errors would crowd out everything else.
    const lines = message.split('\n');
    let line = lines.slice(0, 3).join('\n') + (lines.length > 3 ? ` … (${lines.length - 3} more lines)` : '');
    if (line.length > 2000) line = `${line.slice(0, 2000)}…`;
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }
  dump(): void {
    if (!this.lines.length) return;
    say(`last ${this.lines.length} lines of the code-server/workbench log (NETMEM_E2E_VERBOSE=1 shows all):`);
    for (const line of this.lines) process.stderr.write(`  ${line}\n`);
  }
}
const tail = new Tail(60);

async function screenshot(page: Page, name: string): Promise<void> {
  try {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    const file = join(OUTPUT_DIR, `${name}.png`);
    await page.screenshot({ path: file, timeout: 5_000 });
    say(`screenshot: ${file}`);
  } catch (err) {
    say(`no screenshot: ${errorText(err).split('\n')[0]}`);
  }
}

// A reader that went away (parent killed) must not crash the launcher before its cleanup.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

main().then(
  (code) => process.exit(code),
  (err) => {
    say(`fatal: ${errorText(err)}`);
    process.exit(1);
  },
);
