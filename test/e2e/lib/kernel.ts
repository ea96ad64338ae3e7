// The kernel workspace of one e2e run: a pristine copy of the pinned base checkout that the tests
// may change (apply the series, edit files, build), plus a fixtures folder outside it.
//
// Layout, under the run's scope dir:
//   cache/                       XDG_CACHE_HOME of the extension host (see kernelEnv)
//   cache/netmem-series/linux-6.1.192   the copy, opened as the workspace folder
//   cache/netmem-series/build/ID        its default O= directory (made by the tests)
//   fixtures/                    C files that must not be in the checkout (apply refuses a dirty tree)
// The copy sits where `netmem base` would put its checkout for that XDG_CACHE_HOME, so the
// extension's default build directory is laid out exactly like the real base's (build/ID beside
// linux-6.1.192) and ccache, pointed at the machine's own cache, hits across the two.
//
// Why a clone and not `cp -al` of the checkout: the workbench saves files in place (open, truncate,
// write), which would write through a hard link into the pinned checkout. `git clone --local`
// hard-links only the object files, which git never rewrites, and checks out files of its own
// (about 10 s). The copy has one branch, `base`, at the tag `netmem-base`, no remote, and a
// repo-local git identity so that `git am` works without a global one.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { ROOT } from './paths';
import { errorText, type Scope } from './scope';

export const BASE_TAG = 'netmem-base';
export const BASE_BRANCH = 'base';
/** The C fixture the suite opens (a direct frag access: one netmem diagnostic). */
export const FRAG_FIXTURE = 'frag.c';
export const FRAG_FIXTURE_TEXT = [
  '// SPDX-License-Identifier: GPL-2.0',
  '#include <linux/skbuff.h>',
  '',
  'int netmem_e2e_fixture;',
  '',
  'static unsigned int frag_len(const struct sk_buff *skb, int i)',
  '{',
  '\tconst skb_frag_t *frag = &skb_shinfo(skb)->frags[i];',
  '',
  '\treturn frag->bv_len;',
  '}',
  '',
].join('\n');

export interface KernelWorkspace {
  /** The copy of the base checkout: open it as the workspace folder. */
  kernel: string;
  /** XDG_CACHE_HOME for the extension host (kernel === cacheHome/netmem-series/<name>). */
  cacheHome: string;
  /** A folder outside the checkout with FRAG_FIXTURE in it. */
  fixtures: string;
  /** The pinned checkout the copy was made from (never modified). */
  source: string;
}

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/**
 * The pinned base checkout, prepared by `node dist/cli.js base` when missing (prints its path).
 * Never modified here.
 */
export async function baseCheckout(signal?: AbortSignal): Promise<string> {
  const cli = join(ROOT, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build`);
  const child = spawn(process.execPath, [cli, 'base'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], signal });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', (c) => resolve(c));
    child.once('error', (e) => ((err += errorText(e)), resolve(null)));
  });
  const dir = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !dir || !existsSync(join(dir, '.git'))) {
    throw new Error(`node dist/cli.js base failed (exit ${code}):\n${err.trim()}`);
  }
  return dir;
}

/** Makes the run's kernel workspace under `scope.dir` (see the file comment). */
export async function makeKernelWorkspace(scope: Scope, log: (line: string) => void = () => {}): Promise<KernelWorkspace> {
  const source = await baseCheckout(scope.signal);
  const cacheHome = join(scope.dir, 'cache');
  const parent = join(cacheHome, 'netmem-series');
  mkdirSync(parent, { recursive: true });
  const kernel = join(parent, basename(source));
  const t0 = Date.now();
  await cloneBase(source, kernel, { name: 'Netmem E2E', email: 'e2e@netmem-series.invalid' }, scope.signal);
  log(`kernel workspace: ${kernel} (clone of ${source} at ${BASE_TAG}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const fixtures = join(scope.dir, 'fixtures');
  mkdirSync(fixtures, { recursive: true });
  writeFileSync(join(fixtures, FRAG_FIXTURE), FRAG_FIXTURE_TEXT);
  return { kernel, cacheHome, fixtures, source };
}

/**
 * A working copy of the pinned checkout `source` at `dest` (which must not exist): objects
 * hard-linked, files of its own, branch `base` at the tag, no remote; `identity` is set in the
 * copy's own config only when given (so that `git am` works without a global identity).
 */
export async function cloneBase(
  source: string,
  dest: string,
  identity: { name: string; email: string } | undefined,
  signal?: AbortSignal,
): Promise<void> {
  await runGit(ROOT, ['clone', '-q', '--local', '--no-checkout', '--branch', BASE_BRANCH, source, dest], signal);
  git(dest, 'remote', 'remove', 'origin');
  if (identity) {
    git(dest, 'config', 'user.name', identity.name);
    git(dest, 'config', 'user.email', identity.email);
  }
  git(dest, 'config', 'commit.gpgsign', 'false');
  git(dest, 'config', 'gc.auto', '0');
  await runGit(dest, ['checkout', '-q', '-f', '-B', BASE_BRANCH, BASE_TAG], signal);
}

/**
 * Puts the copy back to the pristine base between two uses: aborts an am, checks out `base` at the
 * tag, removes untracked files and every other branch. Cheap when nothing changed.
 */
export async function resetKernelWorkspace(scope: Scope, ws: KernelWorkspace): Promise<void> {
  const k = ws.kernel;
  if (existsSync(join(k, '.git', 'rebase-apply'))) await runGit(k, ['am', '--abort']);
  await runGit(k, ['checkout', '-q', '-f', '-B', BASE_BRANCH, BASE_TAG], scope.signal);
  await runGit(k, ['clean', '-q', '-fdx'], scope.signal);
  const branches = git(k, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/')
    .split('\n')
    .filter((b) => b && b !== BASE_BRANCH);
  if (branches.length) git(k, 'branch', '-q', '-D', ...branches);
  const dirty = git(k, 'status', '--porcelain');
  if (dirty) throw new Error(`the kernel workspace is not clean after the reset:\n${dirty}`);
}

/** The ccache directory the machine uses, so that builds in the copy hit the warm cache. */
export function ccacheDir(): string {
  if (process.env.CCACHE_DIR) return process.env.CCACHE_DIR;
  try {
    const dir = execFileSync('ccache', ['-k', 'cache_dir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (dir) return dir;
  } catch {
    // no ccache: the builds run without it
  }
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'ccache');
}

/**
 * Environment for the code-server that opens the workspace (and so for its extension host and
 * the tests in it). NETMEM_E2E_XDG_CACHE_HOME is read by lib/codeServer.ts createProfile().
 */
export function kernelEnv(ws: KernelWorkspace): Record<string, string> {
  return {
    NETMEM_E2E_KERNEL: ws.kernel,
    NETMEM_E2E_FIXTURES: ws.fixtures,
    NETMEM_E2E_BASE_SOURCE: ws.source,
    NETMEM_E2E_XDG_CACHE_HOME: ws.cacheHome,
    CCACHE_DIR: ccacheDir(),
  };
}

function runGit(cwd: string, args: string[], signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], signal });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code, sig) =>
      code === 0 ? resolve() : reject(new Error(`git ${args.join(' ')} (in ${cwd}) failed (${code ?? sig}):\n${err.trim()}`)),
    );
  });
}
