// Applying a series to a kernel checkout safely: never on the user's current branch, never over
// uncommitted work, and on a conflict or cancel everything goes back to exactly how it was.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Git, GitError } from '../git/git';
import { CancelledError } from '../util/process';
import type { PatchFile } from './patchfile';

export type ApplyOutcome =
  | { kind: 'applied'; branch: string; commits: string[] }
  | { kind: 'already-applied'; branch: string }
  | { kind: 'refused-dirty'; files: string[] }
  | { kind: 'refused'; reason: string }
  | { kind: 'conflict'; patch: PatchFile; index: number; files: string[]; detail: string }
  | { kind: 'cancelled' };

export interface ApplyOptions {
  kernelDir: string;
  patches: PatchFile[];
  /** The new branch; default `netmem-series`. */
  branch?: string;
  signal?: AbortSignal;
  onProgress?: (message: string, index?: number) => void;
}

/** Uncommitted changes (staged, unstaged, untracked not ignored), as `git status` names them. */
export async function dirtyFiles(git: Git): Promise<string[]> {
  const out = await git.run(['status', '--porcelain=v1', '-z', '--untracked-files=all']);
  const files: string[] = [];
  const parts = out.split('\0');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (!p) continue;
    files.push(p.slice(3));
    if (p[0] === 'R' || p[0] === 'C') i++; // the rename's source follows
  }
  return files;
}

/** `git patch-id --stable` of a diff; undefined for an empty one. */
async function patchId(git: Git, diff: string): Promise<string | undefined> {
  const r = await git.run(['patch-id', '--stable'], { input: diff });
  return r.trim().split(/\s+/)[0] || undefined;
}

/**
 * Patch ids of the last `depth` commits reachable from `rev` that touch `paths`. Root commits are
 * left out: a base imported as one commit would otherwise be diffed whole (1.5 GB for a kernel).
 */
async function historyPatchIds(git: Git, rev: string, depth: number, paths: string[]): Promise<Set<string>> {
  const log = await git.tryRun(['-c', 'log.showRoot=false', 'log', '-p', '--no-merges', '--format=commit %H', `-${depth}`, rev, '--', ...paths], {
    maxBuffer: 256 * 1024 * 1024,
  });
  if (log.code !== 0) return new Set();
  const ids = await git.run(['patch-id', '--stable'], { input: log.stdout, maxBuffer: 16 * 1024 * 1024 });
  return new Set(ids.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean));
}

/** Which patches of the series are in `rev`'s recent history, by patch id. */
export async function appliedPatches(git: Git, patches: PatchFile[], rev = 'HEAD'): Promise<boolean[]> {
  const history = await historyPatchIds(git, rev, 200 + patches.length, [...new Set(patches.flatMap((p) => p.files))]);
  return Promise.all(patches.map(async (p) => history.has((await patchId(git, await readFile(p.path, 'utf8'))) ?? '')));
}

export async function applySeries(opts: ApplyOptions): Promise<ApplyOutcome> {
  const git = new Git(opts.kernelDir);
  const branch = opts.branch ?? 'netmem-series';
  const progress = opts.onProgress ?? (() => undefined);
  if (!(await git.isRepository())) return { kind: 'refused', reason: `${opts.kernelDir} is not a git repository` };
  if ((await git.tryRun(['check-ref-format', '--branch', branch])).code !== 0) return { kind: 'refused', reason: `"${branch}" is not a valid branch name` };
  const gitDir = (await git.run(['rev-parse', '--git-dir'])).trim();
  for (const busy of ['rebase-apply', 'rebase-merge', 'MERGE_HEAD', 'CHERRY_PICK_HEAD']) {
    if (existsSync(join(resolve(opts.kernelDir, gitDir), busy))) return { kind: 'refused', reason: `a git am, rebase, merge or cherry-pick is in progress in ${opts.kernelDir}; finish or abort it first` };
  }

  progress('checking what is applied already');
  const onHead = await appliedPatches(git, opts.patches, 'HEAD');
  if (onHead.every(Boolean)) {
    const current = (await git.tryRun(['symbolic-ref', '--short', '-q', 'HEAD'])).stdout.trim() || 'HEAD';
    return { kind: 'already-applied', branch: current };
  }
  if (await git.resolve(`refs/heads/${branch}`)) {
    if ((await appliedPatches(git, opts.patches, `refs/heads/${branch}`)).every(Boolean)) return { kind: 'already-applied', branch };
    return { kind: 'refused', reason: `branch ${branch} exists already (and does not hold the series); choose another branch name` };
  }
  const dirty = await dirtyFiles(git);
  if (dirty.length) return { kind: 'refused-dirty', files: dirty };

  const original = (await git.tryRun(['symbolic-ref', '-q', 'HEAD'])).stdout.trim();
  const originalCommit = (await git.resolve('HEAD'))!;
  const restore = async () => {
    await git.tryRun(['am', '--abort']);
    await git.tryRun(['checkout', '-q', '-f', original ? original.replace(/^refs\/heads\//, '') : originalCommit]);
    await git.tryRun(['branch', '-D', branch]);
  };

  // git am records a committer: where none is configured, say who applied the series.
  const hasIdent = (await git.tryRun(['var', 'GIT_COMMITTER_IDENT'])).code === 0;
  const am = hasIdent ? git : new Git(opts.kernelDir, { env: { GIT_COMMITTER_NAME: 'netmem-series', GIT_COMMITTER_EMAIL: 'apply@netmem-series.invalid' } });
  await git.run(['checkout', '-q', '-b', branch]);
  const commits: string[] = [];
  try {
    for (const [i, patch] of opts.patches.entries()) {
      if (opts.signal?.aborted) throw new CancelledError();
      progress(`[${i + 1}/${opts.patches.length}] ${patch.subject}`, i);
      const r = await am.tryRun(['am', '-3', '--keep-cr', patch.path], { signal: opts.signal });
      if (r.code !== 0) {
        const unmerged = (await git.tryRun(['diff', '--name-only', '--diff-filter=U'])).stdout.split('\n').filter(Boolean);
        const detail = `${r.stdout}\n${r.stderr}`.trim().split('\n').filter((l) => !/^hint:/.test(l)).slice(-8).join('\n');
        await restore();
        return { kind: 'conflict', patch, index: i, files: unmerged.length ? unmerged : patch.files, detail };
      }
      commits.push((await git.resolve('HEAD'))!);
    }
  } catch (e) {
    await restore();
    if (e instanceof CancelledError) return { kind: 'cancelled' };
    if (e instanceof GitError) return { kind: 'refused', reason: e.message };
    throw e;
  }
  return { kind: 'applied', branch, commits };
}

/** One paragraph for a terminal or a notification. */
export function describeOutcome(o: ApplyOutcome, total: number): string {
  switch (o.kind) {
    case 'applied':
      return `applied ${o.commits.length}/${total} patches on branch ${o.branch}`;
    case 'already-applied':
      return `the series is applied already (on ${o.branch})`;
    case 'refused-dirty':
      return `refused: the checkout has uncommitted changes; commit or stash them first:\n${o.files.map((f) => `  ${f}`).join('\n')}`;
    case 'refused':
      return `refused: ${o.reason}`;
    case 'conflict':
      return `patch ${o.index + 1}/${total} "${o.patch.subject}" does not apply (conflicts in ${o.files.join(', ')}); nothing was changed\n${o.detail}`;
    case 'cancelled':
      return 'cancelled; nothing was changed';
  }
}
