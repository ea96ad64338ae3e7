// Applies a file's hunks to its base text in memory, as `patch` would: each hunk at its stated line,
// or the nearest place where its old side matches exactly (the file may have drifted a little).
// The Series view uses it to show a patch's result without touching the checkout.
import type { Hunk } from './model';

export type HunkBody = Pick<Hunk, 'header' | 'oldStart' | 'oldLines' | 'lines'>;

export class HunkApplyError extends Error {
  constructor(
    message: string,
    readonly hunk: HunkBody,
  ) {
    super(message);
    this.name = 'HunkApplyError';
  }
}

interface Sides {
  old: string[];
  new: string[];
  /** The last line of that side has no line end ("\ No newline at end of file"). */
  oldNoEol: boolean;
  newNoEol: boolean;
}

function sides(hunk: HunkBody): Sides {
  const s: Sides = { old: [], new: [], oldNoEol: false, newNoEol: false };
  let last = '';
  for (const line of hunk.lines) {
    const mark = line[0];
    if (mark === '\\') {
      if (last === ' ' || last === '-') s.oldNoEol = true;
      if (last === ' ' || last === '+') s.newNoEol = true;
      continue;
    }
    const text = line.slice(1);
    // An empty body line is a context line whose trailing space was stripped by a mailer.
    if (mark === ' ' || mark === undefined) {
      s.old.push(text);
      s.new.push(text);
    } else if (mark === '-') s.old.push(text);
    else if (mark === '+') s.new.push(text);
    else throw new HunkApplyError(`${hunk.header}: unexpected body line ${JSON.stringify(line.slice(0, 40))}`, hunk);
    last = mark ?? ' ';
  }
  return s;
}

function matchesAt(lines: readonly string[], at: number, want: readonly string[]): boolean {
  if (at < 0 || at + want.length > lines.length) return false;
  for (let i = 0; i < want.length; i++) if (lines[at + i] !== want[i]) return false;
  return true;
}

/**
 * `base` with `hunks` (in file order) applied. Throws HunkApplyError naming the hunk when its old
 * side is nowhere at or after the previous hunk. Line ends: LF, or CRLF when the base uses CRLF.
 */
export function applyHunks(base: string, hunks: readonly HunkBody[]): string {
  const crlf = base.includes('\r\n');
  const eol = crlf ? '\r\n' : '\n';
  const lines = base === '' ? [] : base.split(eol);
  let endsWithEol = true;
  if (lines.length > 0) {
    if (lines[lines.length - 1] === '') lines.pop();
    else endsWithEol = false;
  }
  const out: string[] = [];
  let cursor = 0;
  let drift = 0;
  for (const hunk of hunks) {
    const s = sides(hunk);
    // For a pure insertion, oldStart is the line after which the new lines go.
    const expected = (hunk.oldLines === 0 ? hunk.oldStart : hunk.oldStart - 1) + drift;
    let at = -1;
    const reach = Math.max(lines.length, 1);
    for (let d = 0; d <= reach && at < 0; d++) {
      if (expected + d >= cursor && matchesAt(lines, expected + d, s.old)) at = expected + d;
      else if (d > 0 && expected - d >= cursor && matchesAt(lines, expected - d, s.old)) at = expected - d;
    }
    if (at < 0) throw new HunkApplyError(`${hunk.header} does not apply: its context is not in the file`, hunk);
    drift = at - (hunk.oldLines === 0 ? hunk.oldStart : hunk.oldStart - 1);
    out.push(...lines.slice(cursor, at), ...s.new);
    cursor = at + s.old.length;
    if (cursor === lines.length) endsWithEol = !s.newNoEol || s.new.length === 0;
  }
  out.push(...lines.slice(cursor));
  if (out.length === 0) return '';
  return out.join(eol) + (endsWithEol ? eol : '');
}
