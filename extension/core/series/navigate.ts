// Moving through a series hunk by hunk, and where its changed lines are once it is applied: the
// order behind next/previous hunk, the labels of the Series view, and the lines the CodeLens marks.
import type { FileDiff, Hunk, Patch, Series } from './model';

export interface HunkRef {
  patch: Patch;
  file: FileDiff;
  hunk: Hunk;
  /** "patch/file/hunk" indexes (0-based file and hunk), stable for one loaded series. */
  key: string;
}

export const hunkKey = (patchIndex: number, fileIndex: number, hunkIndex: number) => `${patchIndex}/${fileIndex}/${hunkIndex}`;

/** Every hunk of the series in order: patch by patch, file by file, top to bottom. */
export function hunkOrder(series: Series): HunkRef[] {
  const out: HunkRef[] = [];
  for (const patch of series.patches) {
    patch.files.forEach((file, fi) => file.hunks.forEach((hunk, hi) => out.push({ patch, file, hunk, key: hunkKey(patch.index, fi, hi) })));
  }
  return out;
}

/** The hunk after (step 1) or before (step -1) `current`, wrapping around; the first or last when none. */
export function stepHunk(order: readonly HunkRef[], current: string | undefined, step: 1 | -1): HunkRef | undefined {
  if (order.length === 0) return undefined;
  const at = current === undefined ? -1 : order.findIndex((r) => r.key === current);
  if (at < 0) return step === 1 ? order[0] : order[order.length - 1];
  return order[(at + step + order.length) % order.length];
}

/** "+12 −3" */
export const diffStat = (added: number, removed: number) => `+${added} \u2212${removed}`;

/** "2/3 net: introduce abstraction for network memory" */
export const patchLabel = (p: Pick<Patch, 'index' | 'total' | 'subject'>) => `${p.index}/${p.total} ${p.subject}`;

/** First line (1-based) the hunk's old or new side covers; line 0 of a side means "before line 1". */
const firstLine = (start: number, count: number) => (count === 0 ? start + 1 : start);

/**
 * Where line `line` (1-based) of a file before `hunks` (one file's hunks of one patch, in order) is
 * after them; undefined when the hunks remove it.
 */
export function mapLineThrough(line: number, hunks: readonly Hunk[]): number | undefined {
  let delta = 0;
  for (const h of hunks) {
    const oStart = firstLine(h.oldStart, h.oldLines);
    if (line < oStart) break;
    if (line >= oStart + h.oldLines) {
      delta += h.newLines - h.oldLines;
      continue;
    }
    let o = oStart;
    let n = firstLine(h.newStart, h.newLines);
    for (const body of h.lines) {
      const mark = body[0] ?? ' ';
      if (mark === ' ') {
        if (o === line) return n;
        o++;
        n++;
      } else if (mark === '-') {
        if (o === line) return undefined;
        o++;
      } else if (mark === '+') n++;
    }
    return undefined;
  }
  return line + delta;
}

/** The 1-based new-side line of every '+' line of a hunk, with its text. */
export function addedLines(h: Hunk): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let n = firstLine(h.newStart, h.newLines);
  for (const body of h.lines) {
    const mark = body[0] ?? ' ';
    if (mark === '+') out.push({ line: n++, text: body.slice(1) });
    else if (mark === ' ') n++;
  }
  return out;
}

/**
 * Line `line` (1-based) of `path` as patch `after` left it, carried through the later patches in
 * `applied` (indexes); undefined when a later patch removes or rewrites it, or renames the file away.
 */
export function lineInCheckout(series: Series, after: number, path: string, line: number, applied: ReadonlySet<number>): { path: string; line: number } | undefined {
  let at: number | undefined = line;
  let where = path;
  for (const p of series.patches) {
    if (p.index <= after || !applied.has(p.index)) continue;
    const fd = p.files.find((f) => f.oldPath === where);
    if (!fd) continue;
    if (!fd.newPath) return undefined;
    at = mapLineThrough(at, fd.hunks);
    if (at === undefined) return undefined;
    where = fd.newPath;
  }
  return { path: where, line: at };
}

export interface ChangedLine {
  /** 0-based line in the checkout. */
  line: number;
  /** The line's text as the patch wrote it (to check the checkout still has it). */
  text: string;
  patch: Patch;
  /** The hunk's key (see hunkOrder). */
  key: string;
}

/**
 * For each path of the checkout, the lines the applied patches (by index) added, where they are after
 * the whole applied series; lines a later applied patch rewrote belong to that patch.
 */
export function changedLines(series: Series, applied: ReadonlySet<number>): Map<string, ChangedLine[]> {
  const out = new Map<string, ChangedLine[]>();
  for (const ref of hunkOrder(series)) {
    if (!applied.has(ref.patch.index) || !ref.file.newPath || ref.file.binary) continue;
    for (const added of addedLines(ref.hunk)) {
      const end = lineInCheckout(series, ref.patch.index, ref.file.newPath, added.line, applied);
      if (!end) continue;
      const list = out.get(end.path) ?? [];
      list.push({ line: end.line - 1, text: added.text, patch: ref.patch, key: ref.key });
      out.set(end.path, list);
    }
  }
  for (const list of out.values()) list.sort((a, b) => a.line - b.line);
  return out;
}

/** The new-side line (1-based) where the hunk's change starts: after its leading context. */
export function focusLine(h: Hunk): number {
  let n = firstLine(h.newStart, h.newLines);
  for (const body of h.lines) {
    if ((body[0] ?? ' ') !== ' ') break;
    n++;
  }
  return n;
}
