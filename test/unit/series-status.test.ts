// The pure parts of per-patch status (reading git apply's errors, the text form) and apply's preflight decisions.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseMbox } from '../../extension/core/series/mbox';
import { preflight, type PreflightFacts } from '../../extension/core/series/preflight';
import { formatStatus, parseApplyErrors } from '../../extension/core/series/status';

const series = parseMbox(readFileSync(join(__dirname, '..', 'fixtures', 'series', 'b4-v2.mbox'), 'utf8'));

describe('series status (pure parts)', () => {
  it('maps "patch failed: path:LINE" to the hunk starting at LINE, and collects failing files', () => {
    const out = 'Checking patch net/a.c...\nerror: while searching for:\nerror: patch failed: net/a.c:1\nerror: net/a.c: patch does not apply\nerror: net/new.h: already exists in index\n';
    const r = parseApplyErrors(out, series.patches[0]!);
    assert.deepEqual(r.files, ['net/a.c', 'net/new.h']);
    assert.deepEqual(r.hunks, [{ path: 'net/a.c', header: '@@ -1,4 +1,4 @@', hunk: 0 }]);
    assert.deepEqual(parseApplyErrors('error: patch failed: net/a.c:77\n', series.patches[0]!).hunks, [{ path: 'net/a.c' }]);
  });

  it('formats one line per patch and names conflicting hunks', () => {
    const text = formatStatus({
      kernelDir: '/k',
      head: 'abcdef0123456789',
      branch: 'main',
      elapsedMs: 1,
      patches: [
        { index: 1, subject: 'one', state: 'applied' },
        { index: 2, subject: 'two', state: 'conflict', files: ['net/a.c'], hunks: [{ path: 'net/a.c', header: '@@ -1,4 +1,4 @@ int a(void)' }] },
        { index: 3, subject: 'three', state: '3way' },
      ],
    });
    assert.equal(text, '/k at main:\n[1/3] applied                  one\n[2/3] conflicts                two\n        in net/a.c @@ -1,4 +1,4 @@\n[3/3] applies with 3-way merge three');
  });
});

const ok: PreflightFacts = {
  kernelDir: '/k',
  exists: true,
  isRepository: true,
  isKernelTree: true,
  head: 'c0ffee',
  currentBranch: 'base',
  pinnedBase: 'c0ffee',
  dirty: [],
  branch: 'netmem-series',
  branchValid: true,
  branchExists: false,
  appliedOnHead: [false, false, false],
};

describe('apply preflight decisions', () => {
  it('a clean checkout gets the series on a new branch from HEAD', () => {
    assert.deepEqual(preflight(ok), { kind: 'apply', branch: 'netmem-series', base: { commit: 'c0ffee', branch: 'base', pinned: true }, apply: [0, 1, 2], notes: [] });
  });

  it('refuses what it cannot or must not work on, in this order', () => {
    assert.match((preflight({ ...ok, exists: false }) as { reason: string }).reason, /does not exist/);
    assert.match((preflight({ ...ok, isRepository: false }) as { reason: string }).reason, /not a git repository/);
    assert.match((preflight({ ...ok, head: undefined }) as { reason: string }).reason, /no commits/);
    assert.match((preflight({ ...ok, busy: 'rebase', dirty: ['x'] }) as { reason: string }).reason, /a rebase is in progress/);
    assert.match((preflight({ ...ok, branchValid: false, branch: 'a..b' }) as { reason: string }).reason, /"a\.\.b" is not a valid branch name/);
    assert.match((preflight({ ...ok, branch: 'base' }) as { reason: string }).reason, /never on the current one/);
    assert.match((preflight({ ...ok, branchExists: true, appliedOnBranch: [true, false, false] }) as { reason: string }).reason, /exists already/);
    assert.deepEqual(preflight({ ...ok, dirty: ['net/a.c', 'notes.txt'] }), { kind: 'refused-dirty', files: ['net/a.c', 'notes.txt'] });
  });

  it('recognises a series applied already, on HEAD or on the target branch, even with a dirty tree', () => {
    assert.deepEqual(preflight({ ...ok, appliedOnHead: [true, true, true], currentBranch: 'netmem-series', dirty: ['x'] }), { kind: 'already-applied', branch: 'netmem-series' });
    assert.deepEqual(preflight({ ...ok, branchExists: true, appliedOnBranch: [true, true, true], dirty: ['x'] }), { kind: 'already-applied', branch: 'netmem-series' });
  });

  it('skips patches in HEAD already and says which base it starts from', () => {
    const d = preflight({ ...ok, head: 'beef', currentBranch: undefined, appliedOnHead: [true, false, false], isKernelTree: false });
    assert.equal(d.kind, 'apply');
    if (d.kind !== 'apply') return;
    assert.deepEqual(d.apply, [1, 2]);
    assert.deepEqual(d.base, { commit: 'beef', pinned: false });
    assert.equal(d.notes.length, 3);
    assert.match(d.notes.join('\n'), /not look like a Linux kernel tree[\s\S]*not the pinned base[\s\S]*1 of 3 patches .* skipped: 1/);
  });
});
