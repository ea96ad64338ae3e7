// What to do before applying a series, decided from facts about the checkout. The facts are
// gathered with git (gatherFacts in apply.ts); the decision is a pure function, shared by the CLI
// and the VS Code command, so both refuse and explain in exactly the same cases.

export interface PreflightFacts {
  kernelDir: string;
  exists: boolean;
  isRepository: boolean;
  isKernelTree: boolean;
  /** The commit HEAD points at; undefined in a repository without commits. */
  head?: string;
  /** The current branch (short name); undefined when HEAD is detached. */
  currentBranch?: string;
  /** The commit of the pinned base tag (netmem-base), when the checkout has it. */
  pinnedBase?: string;
  /** An operation in progress: 'am', 'rebase', 'merge', 'cherry-pick', 'revert', 'bisect'. */
  busy?: string;
  /** Uncommitted changes (staged, unstaged, untracked), as paths. */
  dirty: string[];
  /** The branch to create. */
  branch: string;
  branchValid: boolean;
  branchExists: boolean;
  /** Per patch: already in HEAD's history (patch id). */
  appliedOnHead: boolean[];
  /** Per patch: already in the target branch's history, when the branch exists. */
  appliedOnBranch?: boolean[];
}

export type PreflightDecision =
  | { kind: 'refused'; reason: string }
  | { kind: 'refused-dirty'; files: string[] }
  | { kind: 'already-applied'; branch: string }
  | {
      kind: 'apply';
      branch: string;
      /** What the new branch starts from. */
      base: { commit: string; branch?: string; pinned: boolean };
      /** 0-based positions of the patches to apply (those not in HEAD already). */
      apply: number[];
      /** Things the user should know that do not stop the apply. */
      notes: string[];
    };

const BUSY: Record<string, string> = {
  am: 'a git am',
  rebase: 'a rebase',
  merge: 'a merge',
  'cherry-pick': 'a cherry-pick',
  revert: 'a revert',
  bisect: 'a git bisect',
};

export function preflight(f: PreflightFacts): PreflightDecision {
  if (!f.exists) return { kind: 'refused', reason: `${f.kernelDir} does not exist` };
  if (!f.isRepository) return { kind: 'refused', reason: `${f.kernelDir} is not a git repository (apply needs git to make a branch and to undo a failed apply)` };
  if (!f.head) return { kind: 'refused', reason: `${f.kernelDir} has no commits yet; commit the base tree first` };
  if (f.busy) return { kind: 'refused', reason: `${BUSY[f.busy] ?? f.busy} is in progress in ${f.kernelDir}; finish or abort it first` };
  if (!f.branchValid) return { kind: 'refused', reason: `"${f.branch}" is not a valid branch name` };
  const total = f.appliedOnHead.length;
  if (total > 0 && f.appliedOnHead.every(Boolean)) return { kind: 'already-applied', branch: f.currentBranch ?? 'HEAD' };
  if (f.branch === f.currentBranch) return { kind: 'refused', reason: `you are on ${f.branch}; the series is applied on a new branch, never on the current one — choose another branch name` };
  if (f.branchExists) {
    if (f.appliedOnBranch?.length && f.appliedOnBranch.every(Boolean)) return { kind: 'already-applied', branch: f.branch };
    return { kind: 'refused', reason: `branch ${f.branch} exists already (and does not hold the series); choose another branch name` };
  }
  if (f.dirty.length) return { kind: 'refused-dirty', files: f.dirty };
  const notes: string[] = [];
  if (!f.isKernelTree) notes.push(`${f.kernelDir} does not look like a Linux kernel tree (no Makefile, Kconfig and include/linux/skbuff.h)`);
  const pinned = f.pinnedBase !== undefined && f.pinnedBase === f.head;
  if (f.pinnedBase !== undefined && !pinned) notes.push(`HEAD is not the pinned base (netmem-base); the series may need a 3-way merge`);
  const apply = f.appliedOnHead.flatMap((done, i) => (done ? [] : [i]));
  const skipped = total - apply.length;
  if (skipped) notes.push(`${skipped} of ${total} patches are in HEAD's history already and are skipped: ${f.appliedOnHead.flatMap((d, i) => (d ? [i + 1] : [])).join(', ')}`);
  return { kind: 'apply', branch: f.branch, base: { commit: f.head, ...(f.currentBranch ? { branch: f.currentBranch } : {}), pinned }, apply, notes };
}
