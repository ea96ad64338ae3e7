// Where each patch of a series stands against a checkout, without touching its work tree or index:
// the patches are tried in order on a temporary index (GIT_INDEX_FILE) filled from HEAD.
//   applied   its patch id is in HEAD's recent history
//   upstream  the change is in the tree already, though not as this commit (it reverse-applies)
//   clean     it applies cleanly on top of the patches before it
//   3way      it applies only with a 3-way merge
//   conflict  it does not apply; the files and hunks that fail are named
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Git } from '../git/git';
import { appliedPatches } from './apply';
import type { Hunk, Patch, Series } from './model';

export type PatchState = 'applied' | 'upstream' | 'clean' | '3way' | 'conflict';

export interface FailedHunk {
  path: string;
  /** The hunk's `@@ … @@` header, when git named the line it failed at. */
  header?: string;
  /** 0-based position of the hunk in the file's diff. */
  hunk?: number;
}

export interface PatchStatus {
  index: number;
  subject: string;
  state: PatchState;
  /** For conflict: the files that do not apply (or do not merge). */
  files?: string[];
  /** For conflict: the hunks git reported as failing. */
  hunks?: FailedHunk[];
  /** For conflict: git's own words, shortened. */
  detail?: string;
}

export interface SeriesStatus {
  kernelDir: string;
  head: string;
  branch?: string;
  patches: PatchStatus[];
  /** Milliseconds the computation took. */
  elapsedMs: number;
}

/**
 * Reads `git apply` errors: which files failed and, where git names a line (`patch failed:
 * path:LINE`, LINE being the hunk's old start), which hunks of the patch those are.
 */
export function parseApplyErrors(output: string, patch: Patch): { files: string[]; hunks: FailedHunk[] } {
  const files = new Set<string>();
  const hunks: FailedHunk[] = [];
  for (const line of output.split('\n')) {
    let m = /^error: patch failed: (.+):(\d+)$/.exec(line);
    if (m) {
      const path = m[1]!;
      const at = Number(m[2]);
      files.add(path);
      const diff = patch.files.find((f) => f.oldPath === path || f.newPath === path);
      const i = diff ? diff.hunks.findIndex((h: Hunk) => h.oldStart === at) : -1;
      hunks.push(i >= 0 ? { path, header: diff!.hunks[i]!.header, hunk: i } : { path });
      continue;
    }
    m = /^error: (.+?): (patch does not apply|does not exist in index|already exists in index|does not match index|No such file or directory|wrong type)$/.exec(line);
    if (m) files.add(m[1]!);
  }
  return { files: [...files], hunks };
}

/** One line per patch, for a terminal. */
export function formatStatus(s: SeriesStatus, total = s.patches.length): string {
  const words: Record<PatchState, string> = {
    applied: 'applied',
    upstream: 'upstream',
    clean: 'applies cleanly',
    '3way': 'applies with 3-way merge',
    conflict: 'conflicts',
  };
  const lines = s.patches.map((p) => {
    let line = `[${p.index}/${total}] ${words[p.state].padEnd(24)} ${p.subject}`;
    if (p.state === 'conflict') {
      const where = p.hunks?.length ? p.hunks.map((h) => (h.header ? `${h.path} ${h.header.replace(/ @@.*$/, ' @@')}` : h.path)) : (p.files ?? []);
      line += `\n        in ${[...new Set(where)].join(', ')}`;
    }
    return line;
  });
  return [`${s.kernelDir} at ${s.branch ?? s.head.slice(0, 12)}:`, ...lines].join('\n');
}

/** True when every patch is applied or upstream: nothing left to apply. */
export const isFullyApplied = (s: SeriesStatus) => s.patches.every((p) => p.state === 'applied' || p.state === 'upstream');

export interface StatusOptions {
  rev?: string;
  signal?: AbortSignal;
}

/** The status of each patch of `series` against `kernelDir` (HEAD, or `rev`). Read-only. */
export async function seriesStatus(kernelDir: string, series: Series, opts: StatusOptions = {}): Promise<SeriesStatus> {
  const started = Date.now();
  const git = new Git(kernelDir);
  const rev = opts.rev ?? 'HEAD';
  const head = await git.resolve(rev);
  if (!head) throw new Error(`${kernelDir}: ${rev} is not a commit`);
  const branch = await git.currentBranch();
  const applied = await appliedPatches(git, series.patches, head);
  const tmp = await mkdtemp(join(tmpdir(), 'netmem-status-'));
  const index = join(tmp, 'index');
  const saved = join(tmp, 'index.before');
  const ix = new Git(kernelDir, { env: { GIT_INDEX_FILE: index } });
  const patches: PatchStatus[] = [];
  try {
    if (!applied.every(Boolean)) await ix.run(['read-tree', head], { signal: opts.signal });
    for (const [i, patch] of series.patches.entries()) {
      const base = { index: patch.index, subject: patch.subject };
      if (applied[i]) {
        patches.push({ ...base, state: 'applied' });
        continue;
      }
      const apply = (args: string[]) => ix.tryRun(['apply', '--cached', ...args], { input: patch.raw, signal: opts.signal });
      const check = await apply(['--check', '-v']);
      if (check.code === 0) {
        await ix.run(['apply', '--cached'], { input: patch.raw, signal: opts.signal });
        patches.push({ ...base, state: 'clean' });
        continue;
      }
      if ((await apply(['--check', '--reverse'])).code === 0) {
        patches.push({ ...base, state: 'upstream' });
        continue;
      }
      await copyFile(index, saved);
      const merge = await apply(['--3way']);
      if (merge.code === 0) {
        patches.push({ ...base, state: '3way' });
        continue;
      }
      const lsUnmerged = (await ix.tryRun(['ls-files', '-u'])).stdout
        .split('\n')
        .map((l) => l.split('\t')[1])
        .filter((p): p is string => !!p);
      await copyFile(saved, index); // later patches are tried without this one
      const { files, hunks } = parseApplyErrors(check.stderr, patch);
      const conflictFiles = [...new Set([...lsUnmerged, ...files])];
      const detail = `${check.stderr}\n${merge.stderr}`
        .split('\n')
        .filter((l) => /^error:|conflicts|^U /.test(l))
        .slice(0, 8)
        .join('\n');
      patches.push({ ...base, state: 'conflict', files: conflictFiles, hunks, detail });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { kernelDir, head, ...(branch ? { branch } : {}), patches, elapsedMs: Date.now() - started };
}
