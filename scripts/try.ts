// npm run try: see the extension working in a browser, without installing VS Code.
//   1. (npm run package has built dist/ and packaged dist/netmem-series.vsix)
//   2. scripts/setup-e2e.sh: chromium is not needed here, but the pinned code-server is;
//   3. `node dist/cli.js base`: the pinned base checkout (prepared once, ~30 s, then reused);
//   4. a working copy of it for you, made once: $XDG_CACHE_HOME/netmem-series/try/linux-<version>
//      (branch `base` at the tag netmem-base; objects hard-linked to the base checkout, files of
//      its own). Never the base checkout itself: `npm start` and the tests use that one, and what
//      you do here (apply the series, save edits) stays in the copy. Delete the folder to start
//      afresh; `--fresh` does that for you;
//   5. code-server on 127.0.0.1 (a free port, or --port N) with the .vsix installed into a fresh
//      profile, the working copy open as a trusted workspace;
//   6. prints the URL and waits. Ctrl-C (SIGINT), SIGTERM or SIGHUP stop code-server (its whole
//      process group) and remove the profile.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { cacheRoot } from '../extension/core/util/assets';
import { createProfile, installExtension, startCodeServer } from '../test/e2e/lib/codeServer';
import { baseCheckout, cloneBase } from '../test/e2e/lib/kernel';
import { ROOT } from '../test/e2e/lib/paths';
import { errorText, onTerminationSignal, Scope, SIGNAL_EXIT } from '../test/e2e/lib/scope';

const say = (line: string) => process.stderr.write(`[try] ${line}\n`);
const VSIX = join(ROOT, 'dist', 'netmem-series.vsix');

function parseArgs(argv: string[]): { port?: number; fresh: boolean } {
  const opts: { port?: number; fresh: boolean } = { fresh: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--fresh') opts.fresh = true;
    else if (a === '--port' || a.startsWith('--port=')) {
      const v = a.includes('=') ? a.slice(7) : argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--port needs a port number, not ${v}`);
      opts.port = n;
    } else throw new Error(`unknown argument ${a} (usage: npm run try -- [--port N] [--fresh])`);
  }
  return opts;
}

/** The git identity configured outside any repository, if there is one. */
function gitIdentity(): string | undefined {
  try {
    return execFileSync('git', ['config', 'user.email'], { cwd: homedir(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(VSIX)) throw new Error(`${VSIX} is missing: run npm run package (npm run try does)`);
  execFileSync('bash', [join(ROOT, 'scripts', 'setup-e2e.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });

  const scope = new Scope('netmem-try-', say);
  let stopped: keyof typeof SIGNAL_EXIT | undefined;
  let wake!: () => void;
  const done = new Promise<void>((r) => (wake = r));
  const removeHandlers = onTerminationSignal((signal) => {
    stopped = signal;
    say(`${signal}: stopping`);
    wake();
  });
  try {
    const base = await baseCheckout(scope.signal);
    const kernel = join(cacheRoot(), 'try', basename(base));
    if (opts.fresh && existsSync(kernel)) {
      say(`--fresh: removing ${kernel}`);
      rmSync(kernel, { recursive: true, force: true });
    }
    if (!existsSync(join(kernel, '.git'))) {
      say(`making your working copy of the base: ${kernel} (once, ~10 s)`);
      rmSync(kernel, { recursive: true, force: true });
      try {
        // git am needs an identity: yours when git has one, else one for this copy only.
        await cloneBase(base, kernel, gitIdentity() ? undefined : { name: 'Netmem Try', email: 'try@netmem-series.invalid' }, scope.signal);
      } catch (err) {
        rmSync(kernel, { recursive: true, force: true });
        throw err;
      }
    } else {
      say(`reusing your working copy: ${kernel} (npm run try -- --fresh starts afresh)`);
    }
    if (stopped) return SIGNAL_EXIT[stopped];

    // Git on, for the applied series' commits.
    const profile = createProfile(scope, undefined, {
      'git.enabled': true,
      'git.autoRepositoryDetection': true,
      'git.openRepositoryInParentFolders': 'never',
    });
    say('installing dist/netmem-series.vsix into a fresh code-server profile');
    await installExtension(scope, profile, VSIX, say);
    const server = await startCodeServer(scope, { profile, port: opts.port, log: (l) => process.env.NETMEM_TRY_VERBOSE === '1' && say(l) });
    const url = server.workbenchUrl(kernel);
    process.stdout.write(
      `\nNetmem Series is running in code-server ${server.origin} (pid ${server.pid}).\n` +
        `Open:\n\n  ${url}\n\n` +
        'In the workbench: F1 → "Welcome: Open Walkthrough…" → "Get started with Netmem" walks you through\n' +
        'linking, applying, checking and testing. Or open drivers/infiniband/hw/hfi1/ipoib_tx.c (line 220)\n' +
        'before applying, to see a finding and its quick fix.\n' +
        'Ctrl-C stops it.\n',
    );
    await Promise.race([done, server.exited]);
    if (!stopped) say('code-server exited by itself');
    return stopped ? SIGNAL_EXIT[stopped] : 1;
  } finally {
    await scope.close();
    removeHandlers();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    say(`error: ${errorText(err)}`);
    process.exit(2);
  },
);
