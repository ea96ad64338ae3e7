// A suite's report for terminals (text), TAP consumers and tools (JSON).
import { formatDiagnostic } from './diagnostics';
import type { RunnerReport, RunnerResult } from './runner';

const seconds = (ms?: number) => (ms === undefined ? '' : ` (${(ms / 1000).toFixed(1)} s)`);

/** One line as a result comes in. */
export function resultLine(r: RunnerResult): string {
  const word = r.status === 'pass' ? 'PASS' : r.status === 'fail' ? 'FAIL' : 'SKIP';
  return `${word} ${r.name}${seconds(r.durationMs)}`;
}

export function formatText(report: RunnerReport): string {
  const out: string[] = [];
  const failed = report.results.filter((r) => r.status === 'fail');
  for (const r of failed) {
    out.push('', `FAIL ${r.name}`);
    if (r.message) out.push(...r.message.split('\n').map((l) => `  ${l}`));
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
