// Applying a series to a kernel checkout safely: never on the user's current branch, never over
// uncommitted work, and on a conflict or cancel everything goes back to exactly how it was.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Git, GitError } from '../git/git';
import { isKernelTree } from '../kernel/tree';
import { CancelledError } from '../util/process';
import { patchPaths, type Patch, type Series } from './model';
import { preflight, type PreflightDecision, type PreflightFacts } from './preflight';

export type ApplyOutcome =
  | { kind: 'applied'; branch: string; commits: string[]; skipped: number[]; notes: string[] }
  | { kind: 'already-applied'; branch: string }
  | { kind: 'refused-dirty'; files: string[] }
  | { kind: 'refused'; reason: string }
  | { kind: 'conflict'; patch: { index: number; subject: string }; files: string[]; detail: string }
  | { kind: 'cancelled' };

export interface ApplyOptions {
  kernelDir: string;
  series: Series;
  /** The new branch; default `netmem-series`. */
  branch?: string;
  signal?: AbortSignal;
  /** `done` patches of `total` are applied; message says what happens now. */
  onProgress?: (message: string, done?: number, total?: number) => void;
}

export const DEFAULT_BRANCH = 'netmem-series';

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

/** `git patch-id --stable` of a patch mail; undefined when it holds no diff. */
async function patchId(git: Git, raw: string): Promise<string | undefined> {
  const r = await git.run(['patch-id', '--stable'], { input: raw });
  return r.trim().split(/\s+/)[0] || undefined;
}

/**
 * Patch ids of the last `depth` commits reachable from `rev` that touch `paths`. Root commits are
 * left out: a base imported as one commit would otherwise be diffed whole (1.5 GB for a kernel).
 */
async function historyPatchIds(git: Git, rev: string, depth: number, paths: string[]): Promise<Set<string>> {
  const log = await git.tryRun(['-c', 'log.showRoot=false', 'log', '-p', '--full-diff', '--no-merges', '--format=commit %H', `-${depth}`, rev, '--', ...paths], {
    maxBuffer: 256 * 1024 * 1024,
  });
  if (log.code !== 0) return new Set();
  const ids = await git.run(['patch-id', '--stable'], { input: log.stdout, maxBuffer: 16 * 1024 * 1024 });
  return new Set(ids.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean));
}

/** Which patches of the series are in `rev`'s recent history, by patch id. */
export async function appliedPatches(git: Git, patches: readonly Patch[], rev = 'HEAD'): Promise<boolean[]> {
  const history = await historyPatchIds(git, rev, 200 + patches.length, [...new Set(patches.flatMap(patchPaths))]);
  return Promise.all(patches.map(async (p) => history.has((await patchId(git, p.raw)) ?? '')));
}

const BUSY_MARKERS: [string, string][] = [
  ['rebase-apply/applying', 'am'],
  ['rebase-apply', 'rebase'],
  ['rebase-merge', 'rebase'],
  ['MERGE_HEAD', 'merge'],
  ['CHERRY_PICK_HEAD', 'cherry-pick'],
  ['REVERT_HEAD', 'revert'],
  ['BISECT_LOG', 'bisect'],
];

/** Everything preflight() decides on, read from the checkout (read-only). */
export async function gatherFacts(kernelDir: string, series: Series, branch = DEFAULT_BRANCH): Promise<PreflightFacts> {
  const git = new Git(kernelDir);
  const facts: PreflightFacts = {
    kernelDir,
    exists: existsSync(kernelDir),
    isRepository: false,
    isKernelTree: false,
    dirty: [],
    branch,
    branchValid: false,
    branchExists: false,
    appliedOnHead: series.patches.map(() => false),
  };
  if (!facts.exists) return facts;
  facts.isKernelTree = isKernelTree(kernelDir);
  facts.isRepository = await git.isRepository();
  if (!facts.isRepository) return facts;
  facts.head = await git.resolve('HEAD');
  facts.currentBranch = await git.currentBranch();
  facts.pinnedBase = await git.resolve('refs/tags/netmem-base');
  const gitDir = resolve(kernelDir, (await git.run(['rev-parse', '--git-dir'])).trim());
  facts.busy = BUSY_MARKERS.find(([marker]) => existsSync(join(gitDir, marker)))?.[1];
  facts.branchValid = (await git.tryRun(['check-ref-format', '--branch', branch])).code === 0;
  if (!facts.head) return facts;
  facts.dirty = await dirtyFiles(git);
  facts.appliedOnHead = await appliedPatches(git, series.patches, 'HEAD');
  facts.branchExists = facts.branchValid && (await git.resolve(`refs/heads/${branch}`)) !== undefined;
  if (facts.branchExists) facts.appliedOnBranch = await appliedPatches(git, series.patches, `refs/heads/${branch}`);
  return facts;
}

/** Applies the series as preflight() decided, with `git am -3` on a new branch. */
export async function applySeries(opts: ApplyOptions): Promise<ApplyOutcome> {
  const progress = opts.onProgress ?? (() => undefined);
  progress('checking the checkout and what is applied already');
  const decision = preflight(await gatherFacts(opts.kernelDir, opts.series, opts.branch ?? DEFAULT_BRANCH));
  return applyDecided(opts, decision);
}


/** `git`, or where no committer identity is configured, a Git that names netmem-series as committer. */
async function committer(git: Git, dir: string): Promise<Git> {
  if ((await git.tryRun(['var', 'GIT_COMMITTER_IDENT'])).code === 0) return git;
  return new Git(dir, { env: { GIT_COMMITTER_NAME: 'netmem-series', GIT_COMMITTER_EMAIL: 'apply@netmem-series.invalid' } });
}
/** The apply itself, after preflight() said `apply` (other decisions are returned as outcomes). */
export async function applyDecided(opts: ApplyOptions, decision: PreflightDecision): Promise<ApplyOutcome> {
  if (decision.kind !== 'apply') return decision;
  const git = new Git(opts.kernelDir);
  const progress = opts.onProgress ?? (() => undefined);
  const { branch } = decision;
  const patches = decision.apply.map((i) => opts.series.patches[i]!);
  const original = decision.base.branch ?? decision.base.commit;
  const restore = async () => {
    await git.tryRun(['am', '--abort']);
    await git.tryRun(['checkout', '-q', '-f', original]);
    await git.tryRun(['branch', '-D', branch]);
  };

  // git am records a committer: where none is configured, say who applied the series.
  const am = await committer(git, opts.kernelDir);
  if (opts.signal?.aborted) return { kind: 'cancelled' };
  await git.run(['checkout', '-q', '-b', branch]);
  const commits: string[] = [];
  try {
    for (const [i, patch] of patches.entries()) {
      if (opts.signal?.aborted) throw new CancelledError();
      progress(`[${patch.index}/${patch.total}] ${patch.subject}`, i, patches.length);
      const r = await am.tryRun(['am', '-3', '--keep-cr', '--no-gpg-sign'], { input: patch.raw, signal: opts.signal });
      if (r.code !== 0) {
        const unmerged = (await git.tryRun(['diff', '--name-only', '--diff-filter=U'])).stdout.split('\n').filter(Boolean);
        const detail = `${r.stdout}\n${r.stderr}`.trim().split('\n').filter((l) => !/^hint:/.test(l)).slice(-8).join('\n');
        await restore();
        return { kind: 'conflict', patch: { index: patch.index, subject: patch.subject }, files: unmerged.length ? unmerged : [...new Set(patch.files.map((f) => f.path))], detail };
      }
      commits.push((await git.resolve('HEAD'))!);
    }
  } catch (e) {
    await restore();
    if (e instanceof CancelledError) return { kind: 'cancelled' };
    if (e instanceof GitError) return { kind: 'refused', reason: e.message };
    throw e;
  }
  progress(`applied ${commits.length} patches on ${branch}`, patches.length, patches.length);
  return { kind: 'applied', branch, commits, skipped: opts.series.patches.flatMap((p, i) => (decision.apply.includes(i) ? [] : [p.index])), notes: decision.notes };
}

/** One paragraph for a terminal or a notification. */
export function describeOutcome(o: ApplyOutcome, total: number): string {
  switch (o.kind) {
    case 'applied':
      return [`applied ${o.commits.length}/${total} patches on branch ${o.branch}`, ...o.notes.map((n) => `note: ${n}`)].join('\n');
    case 'already-applied':
      return `the series is applied already (on ${o.branch})`;
    case 'refused-dirty':
      return `refused: the checkout has uncommitted changes; commit or stash them first:\n${o.files.map((f) => `  ${f}`).join('\n')}`;
    case 'refused':
      return `refused: ${o.reason}`;
    case 'conflict':
      return `patch ${o.patch.index}/${total} "${o.patch.subject}" does not apply (conflicts in ${o.files.join(', ')}); nothing was changed\n${o.detail}`;
    case 'cancelled':
      return 'cancelled; nothing was changed';
  }
}

/**
 * Stashes every uncommitted change (untracked files too) under `message`, so a dirty checkout can
 * be applied to. The stash is never dropped here; its commit id is returned so the user can find it.
 */
export async function stashChanges(kernelDir: string, message: string): Promise<{ commit: string; message: string }> {
  const git = new Git(kernelDir);
  const before = await git.resolve('refs/stash');
  const stash = await committer(git, kernelDir);
  await stash.run(['stash', 'push', '--include-untracked', '--message', message]);
  const commit = await git.resolve('refs/stash');
  if (!commit || commit === before) throw new GitError('git stash: nothing was stashed', ['stash'], '', 1);
  const left = await dirtyFiles(git);
  if (left.length) throw new GitError(`git stash left changes behind: ${left.join(', ')}`, ['stash'], '', 1);
  return { commit, message };
}
