// The pure parts behind the Series view: applying hunks in memory (checked against real git), the
// hunk order for next/previous, labels, and where applied lines end up for the CodeLens.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { applyHunks, HunkApplyError } from '../../extension/core/series/applyHunks';
import type { FileDiff, Hunk, Patch, Series } from '../../extension/core/series/model';
import { parsePatchMessage } from '../../extension/core/series/model';
import { loadSeries } from '../../extension/core/series/mbox';
import { changedLines, diffStat, focusLine, hunkOrder, lineInCheckout, mapLineThrough, patchLabel, stepHunk } from '../../extension/core/series/navigate';
import { BUNDLED_SERIES } from '../../extension/core/series/patchfile';

/** A hunk from its header numbers and body lines (prefix included). */
function hunk(oldStart: number, oldLines: number, newStart: number, newLines: number, lines: string[], section = ''): Hunk {
  return {
    header: `@@ -${oldStart},${oldLines} +${newStart},${newLines} @@${section ? ` ${section}` : ''}`,
    oldStart,
    oldLines,
    newStart,
    newLines,
    section,
    lines,
    added: lines.filter((l) => l[0] === '+').length,
    removed: lines.filter((l) => l[0] === '-').length,
  };
}

const numbered = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `line ${i + from}`);
const text = (lines: string[]) => lines.map((l) => `${l}\n`).join('');

describe('applyHunks', () => {
  it('applies a hunk at its stated line', () => {
    const base = text(numbered(10));
    const h = hunk(4, 3, 4, 4, [' line 4', '-line 5', '+five', '+5b', ' line 6']);
    assert.equal(applyHunks(base, [h]), text(['line 1', 'line 2', 'line 3', 'line 4', 'five', '5b', 'line 6', 'line 7', 'line 8', 'line 9', 'line 10']));
  });

  it('finds a hunk that moved, and carries the offset to the next hunk', () => {
    const base = text(['extra a', 'extra b', ...numbered(30)]);
    const h1 = hunk(2, 3, 2, 3, [' line 2', '-line 3', '+three', ' line 4']);
    const h2 = hunk(20, 3, 20, 2, [' line 20', '-line 21', ' line 22']);
    const out = applyHunks(base, [h1, h2]).split('\n');
    assert.equal(out[4], 'three');
    assert.equal(out[21], 'line 20');
    assert.equal(out[22], 'line 22');
    assert.equal(out.length, 32); // 32 lines, one removed, plus the empty string after the last LF
  });

  it('creates a new file from an empty base and deletes a whole file', () => {
    const add = hunk(0, 0, 1, 2, ['+#ifndef X', '+#endif']);
    assert.equal(applyHunks('', [add]), '#ifndef X\n#endif\n');
    const del = hunk(1, 2, 0, 0, ['-#ifndef X', '-#endif']);
    assert.equal(applyHunks('#ifndef X\n#endif\n', [del]), '');
  });

  it('inserts after a line (old count 0)', () => {
    assert.equal(applyHunks(text(numbered(3)), [hunk(2, 0, 3, 1, ['+new'])]), text(['line 1', 'line 2', 'new', 'line 3']));
  });

  it('honours "\\ No newline at end of file" on either side', () => {
    const addEol = hunk(1, 1, 1, 1, ['-last', '\\ No newline at end of file', '+last']);
    assert.equal(applyHunks('last', [addEol]), 'last\n');
    const dropEol = hunk(1, 1, 1, 1, ['-last', '+last', '\\ No newline at end of file']);
    assert.equal(applyHunks('last\n', [dropEol]), 'last');
  });

  it('keeps CRLF line ends', () => {
    assert.equal(applyHunks('a\r\nb\r\nc\r\n', [hunk(2, 1, 2, 1, ['-b', '+B'])]), 'a\r\nB\r\nc\r\n');
  });

  it('refuses a hunk whose context is not in the file, naming it', () => {
    const h = hunk(2, 2, 2, 2, [' nope', '-line 3', '+x']);
    assert.throws(() => applyHunks(text(numbered(5)), [h]), (e: unknown) => e instanceof HunkApplyError && e.message.includes('@@ -2,2 +2,2 @@'));
  });

  describe('against git', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netmem-hunks-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('gives what git apply gives for random edits', () => {
      let seed = 7;
      const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
      for (let round = 0; round < 25; round++) {
        const before = numbered(80 + rand(40)).map((l) => (rand(5) === 0 ? '' : l));
        const after = [...before];
        for (let e = 0; e < 1 + rand(6); e++) {
          const at = rand(after.length);
          const kind = rand(3);
          if (kind === 0) after.splice(at, 1 + rand(3));
          else if (kind === 1) after.splice(at, 0, ...numbered(1 + rand(4), 1000 + round * 10 + e));
          else after[at] = `changed ${round}.${e}`;
        }
        const noEol = rand(4) === 0;
        writeFileSync(join(dir, 'a'), text(before));
        writeFileSync(join(dir, 'b'), text(after).slice(0, noEol ? -1 : undefined));
        const diff = gitDiff(dir);
        if (!diff) continue;
        const msg = `From: T <t@example.invalid>\nSubject: [PATCH] edit\n\nedit\n---\n${diff.replace(/a\/a\b/g, 'a/f').replace(/b\/b\b/g, 'b/f')}`;
        const patch = parsePatchMessage(msg);
        const [file] = patch.files;
        assert.ok(file, `round ${round}: the parser found no file in\n${diff}`);
        assert.equal(applyHunks(text(before), file.hunks), text(after).slice(0, noEol ? -1 : undefined), `round ${round}`);
      }
    });
  });
});

function gitDiff(dir: string): string {
  try {
    execFileSync('git', ['diff', '--no-index', '--no-color', 'a', 'b'], { cwd: dir, encoding: 'utf8' });
    return '';
  } catch (e) {
    return (e as { stdout: string }).stdout;
  }
}

function file(path: string, hunks: Hunk[], oldPath: string | null = path): FileDiff {
  return { oldPath, newPath: path, path, status: oldPath ? 'modified' : 'added', binary: false, hunks, added: 0, removed: 0 };
}

function patch(index: number, total: number, subject: string, files: FileDiff[]): Patch {
  return { index, total, subject, rawSubject: subject, author: { name: 'T', email: 't@example.invalid' }, message: '', trailers: [], files, added: 1, removed: 2, raw: '' };
}

describe('series navigation', () => {
  // Patch 1 changes line 5 of a.c; patch 2 inserts 2 lines at the top of a.c and rewrites line 8.
  const p1 = patch(1, 2, 'one', [file('a.c', [hunk(4, 3, 4, 3, [' l4', '-l5', '+L5', ' l6'])]), file('b.c', [hunk(0, 0, 1, 1, ['+new'])], null)]);
  const p2 = patch(2, 2, 'two', [file('a.c', [hunk(1, 1, 1, 3, ['+x', '+y', ' l1']), hunk(7, 3, 9, 3, [' l7', '-l8', '+L8', ' l9'])])]);
  const series: Series = { title: 't', patches: [p1, p2], source: { kind: 'folder', path: '/x' } };

  it('orders hunks patch by patch and steps around the ends', () => {
    const order = hunkOrder(series);
    assert.deepEqual(order.map((r) => r.key), ['1/0/0', '1/1/0', '2/0/0', '2/0/1']);
    assert.equal(stepHunk(order, undefined, 1)?.key, '1/0/0');
    assert.equal(stepHunk(order, undefined, -1)?.key, '2/0/1');
    assert.equal(stepHunk(order, '1/1/0', 1)?.key, '2/0/0');
    assert.equal(stepHunk(order, '2/0/1', 1)?.key, '1/0/0');
    assert.equal(stepHunk(order, '1/0/0', -1)?.key, '2/0/1');
    assert.equal(stepHunk([], undefined, 1), undefined);
  });

  it('labels patches and stats, and focuses a hunk on its first change', () => {
    assert.equal(patchLabel(p2), '2/2 two');
    assert.equal(diffStat(12, 3), '+12 \u22123');
    assert.equal(focusLine(p2.files[0]!.hunks[1]!), 10);
    assert.equal(focusLine(p2.files[0]!.hunks[0]!), 1);
    assert.equal(focusLine(hunk(0, 0, 1, 1, ['+new'])), 1);
  });

  it('maps a line through later hunks', () => {
    const hunks = p2.files[0]!.hunks;
    assert.equal(mapLineThrough(1, hunks), 3); // context after two inserted lines
    assert.equal(mapLineThrough(5, hunks), 7);
    assert.equal(mapLineThrough(8, hunks), undefined); // rewritten by patch 2
    assert.equal(mapLineThrough(20, hunks), 22);
    assert.deepEqual(lineInCheckout(series, 1, 'a.c', 5, new Set([1, 2])), { path: 'a.c', line: 7 });
    assert.deepEqual(lineInCheckout(series, 1, 'a.c', 5, new Set([1])), { path: 'a.c', line: 5 });
  });

  it('marks the lines of applied patches where they are in the checkout', () => {
    const all = changedLines(series, new Set([1, 2]));
    assert.deepEqual(
      all.get('a.c')!.map((c) => [c.line, c.text, c.patch.index]),
      [
        [0, 'x', 2],
        [1, 'y', 2],
        [6, 'L5', 1],
        [9, 'L8', 2],
      ],
    );
    assert.deepEqual(all.get('b.c')!.map((c) => [c.line, c.text]), [[0, 'new']]);
    const first = changedLines(series, new Set([1]));
    assert.deepEqual(first.get('a.c')!.map((c) => c.line), [4]);
    assert.equal(changedLines(series, new Set()).size, 0);
  });

  it('applies the bundled series file by file onto its own hunks', async () => {
    const bundled = await loadSeries(BUNDLED_SERIES());
    assert.equal(bundled.patches.length, 3);
    // netmem.h is created by patch 2: applying its hunk to nothing gives exactly its + lines.
    const created = bundled.patches.flatMap((p) => p.files).find((f) => f.status === 'added');
    assert.ok(created, 'the bundled series adds a file');
    const made = applyHunks('', created.hunks);
    assert.equal(made.split('\n').length - 1, created.added);
  });
});
