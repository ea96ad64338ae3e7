// A suite's report for terminals (text), TAP consumers and tools (JSON).
import { isAbsolute, join } from 'node:path';
import { formatDiagnostic } from './diagnostics';
import type { RunnerReport, RunnerResult } from './runner';

const seconds = (ms?: number) => (ms === undefined ? '' : ` (${(ms / 1000).toFixed(1)} s)`);

/** One line as a result comes in. */
export function resultLine(r: RunnerResult): string {
  const word = r.status === 'pass' ? 'PASS' : r.status === 'fail' ? 'FAIL' : 'SKIP';
  return `${word} ${r.name}${seconds(r.durationMs)}`;
}

/** What the `[tag]` of a problem line says: the kernel trouble's kind, `test`, or `boot`. */
function problemTag(r: RunnerResult): string {
  if (r.kind === 'kernel') return r.id.split('/')[1] ?? 'bug';
  return r.kind === 'boot' ? 'boot' : 'test';
}

/**
 * A failed guest/KUnit test or kernel trouble as one line a problem matcher can read:
 * `FILE:LINE: [bug|oops|warning|panic|test|boot] TEXT`, FILE relative to the checkout (the source
 * line a BUG or WARNING names) or the serial log's absolute path. Build failures are not here: their
 * compiler messages are printed in gcc's format.
 */
export function problemLine(r: RunnerResult): string | undefined {
  if (r.status !== 'fail' || r.kind === 'build' || !r.location) return undefined;
  const first = r.message?.split('\n')[0]?.trim();
  const text = r.kind === 'kernel' ? (first ?? r.name) : first ? `${r.name}: ${first}` : r.name;
  return `${r.location.file}:${r.location.line}: [${problemTag(r)}] ${text}`;
}

export function formatText(report: RunnerReport): string {
  const out: string[] = [];
  const failed = report.results.filter((r) => r.status === 'fail');
  for (const r of failed) {
    out.push('', `FAIL ${r.name}`);
    const problem = problemLine(r);
    if (problem) out.push(problem);
    // A one-line message is in the problem line already.
    if (r.message && !(problem && !r.message.includes('\n'))) out.push(...r.message.split('\n').map((l) => `  ${l}`));
    if (r.excerpt?.length) out.push('  log:', ...r.excerpt.map((l) => `  | ${l}`));
  }
  const diags = report.diagnostics.filter((d) => d.severity !== 'note');
  if (diags.length) out.push('', ...diags.map(formatDiagnostic));
  if (report.kunitTotals) {
    const k = report.kunitTotals;
    out.push('', `KUnit: pass:${k.pass} fail:${k.fail} skip:${k.skip} total:${k.total}`);
  }
  if (report.bootLog) out.push(`serial log: ${report.bootLog}`);
  const c = report.counts;
  out.push('', `${report.suite}: ${report.ok ? 'PASSED' : 'FAILED'} in ${(report.durationMs / 1000).toFixed(0)} s`, `${c.pass} passed, ${c.fail} failed, ${c.skip} skipped`);
  return out.join('\n').replace(/^\n/, '');
}

/**
 * The report with every checkout-relative path (failure locations, compiler records) made absolute
 * under `root`: for a reader that resolves paths against another directory, such as a task's problem
 * matcher when the task's kernel is not the linked checkout.
 */
export function withRoot(report: RunnerReport, root: string): RunnerReport {
  const abs = (f: string) => (isAbsolute(f) ? f : join(root, f));
  return {
    ...report,
    results: report.results.map((r) => (r.location ? { ...r, location: { ...r.location, file: abs(r.location.file) } } : r)),
    diagnostics: report.diagnostics.map((d) => (d.file ? { ...d, file: abs(d.file) } : d)),
  };
}

/** TAP version 13 for a report or a boot's verdict (the CLI's --format tap). */
export function formatTap(report: { results: readonly RunnerResult[] }): string {
  const out = ['TAP version 13', `1..${report.results.length}`];
  report.results.forEach((r, i) => {
    const directive = r.status === 'skip' ? ` # SKIP ${r.message ?? ''}`.trimEnd() : '';
    out.push(`${r.status === 'fail' ? 'not ok' : 'ok'} ${i + 1} - ${r.name}${directive}`);
    if (r.status === 'fail') {
      out.push('  ---', `  message: ${JSON.stringify(r.message ?? '')}`);
      if (r.durationMs !== undefined) out.push(`  duration_ms: ${r.durationMs}`);
      if (r.excerpt?.length) out.push('  log: |', ...r.excerpt.map((l) => `    ${l}`));
      out.push('  ...');
    }
  });
  return out.join('\n');
}
