// The pinned base for tests. `npm start` applies the series in the base checkout; tests that need the
// base as it is get a hard-linked copy checked out at the base tag then (git replaces files by rename,
// so the copy never writes through to the checkout).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { netmem } from './cli';

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** The base checkout's path (prepared or reused by `netmem base`). */
export async function baseCheckout(): Promise<string> {
  const r = await netmem(['base']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/**
 * A tree at the base commit: the checkout itself when its HEAD is the base, else a copy made under
 * `parent` (which must be on the checkout's file system). `copied` says which.
 */
export async function pristineBase(parent: string): Promise<{ dir: string; copied: boolean }> {
  const base = await baseCheckout();
  if (git(base, 'rev-parse', 'HEAD') === git(base, 'rev-parse', 'netmem-base^{commit}')) return { dir: base, copied: false };
  mkdirSync(parent, { recursive: true });
  const dir = join(parent, basename(base));
  execFileSync('cp', ['-al', base, dir]);
  git(dir, 'checkout', '-q', '-f', '--detach', 'netmem-base');
  return { dir, copied: true };
}
