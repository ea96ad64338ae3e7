// Applying the findings' quick fixes to a text. Overlapping edits are dropped (the first one wins);
// applying the result's fixes again changes nothing, because a fixed access is no longer a finding.
import type { Finding, Position, TextEdit } from './types';

function offsets(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function toIndex(starts: number[], p: Position): number {
  return (starts[p.line] ?? Number.NaN) + p.col;
}

export interface FixOutcome {
  text: string;
  applied: number;
  skipped: number;
}

export function applyEdits(text: string, edits: TextEdit[]): FixOutcome {
  const starts = offsets(text);
  const spans = edits
    .map((e) => ({ start: toIndex(starts, e.range.start), end: toIndex(starts, e.range.end), newText: e.newText }))
    .filter((s) => Number.isFinite(s.start) && Number.isFinite(s.end) && s.start <= s.end && s.end <= text.length)
    .sort((a, b) => a.start - b.start || a.end - b.end);
  const kept: typeof spans = [];
  let skipped = edits.length - spans.length;
  let lastEnd = -1;
  for (const s of spans) {
    if (s.start < lastEnd) {
      skipped++;
      continue;
    }
    kept.push(s);
    lastEnd = s.end;
  }
  let out = '';
  let at = 0;
  for (const s of kept) {
    out += text.slice(at, s.start) + s.newText;
    at = s.end;
  }
  out += text.slice(at);
  return { text: out, applied: kept.length, skipped };
}

/** Apply every fix of `findings` (all of one file) to `text`. */
export function applyFixes(text: string, findings: Finding[]): FixOutcome {
  const edits: TextEdit[] = [];
  for (const f of findings) if (f.fix) edits.push(...f.fix);
  return applyEdits(text, edits);
}
