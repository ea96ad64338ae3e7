// A series for people and for JSON: the cover letter and, per patch, author, trailers, diffstat and
// files with their hunk counts (the raw mails and hunk bodies are left out).
import { seriesStat, type Series } from './model';

export function seriesSummary(series: Series) {
  return {
    title: series.title,
    version: series.version,
    source: series.source,
    stat: seriesStat(series),
    cover: series.cover && { subject: series.cover.subject, author: series.cover.author, date: series.cover.date, body: series.cover.body },
    patches: series.patches.map((p) => ({
      index: p.index,
      total: p.total,
      version: p.version,
      subject: p.subject,
      author: p.author,
      date: p.date,
      messageId: p.messageId,
      trailers: p.trailers,
      added: p.added,
      removed: p.removed,
      files: p.files.map((f) => ({ path: f.path, oldPath: f.oldPath, newPath: f.newPath, status: f.status, binary: f.binary, added: f.added, removed: f.removed, hunks: f.hunks.length })),
    })),
  };
}

/** A git-like overview: title, cover letter's first paragraph, then each patch with its diffstat. */
export function formatSeries(series: Series): string {
  const stat = seriesStat(series);
  const out = [`${series.title}${series.version ? ` (v${series.version})` : ''}: ${series.patches.length} patches, ${stat.files} files, +${stat.added} -${stat.removed}`, `source: ${series.source.kind} ${series.source.path}`];
  if (series.cover) {
    const who = series.cover.author ? ` — ${series.cover.author.name} <${series.cover.author.email}>` : '';
    out.push('', `[0/${series.patches.length}] ${series.cover.subject}${who}`);
    const first = series.cover.body.trim().split(/\n\s*\n/, 1)[0];
    if (first) out.push(...first.split('\n').map((l) => `    ${l}`));
  }
  for (const p of series.patches) {
    out.push('', `[${p.index}/${p.total}] ${p.subject}`, `    Author: ${p.author.name} <${p.author.email}>${p.date ? `, ${p.date}` : ''}`);
    for (const t of p.trailers) out.push(`    ${t.key}: ${t.value}`);
    const width = Math.max(...p.files.map((f) => f.path.length));
    for (const f of p.files) {
      const change = f.binary ? 'Bin' : `+${f.added} -${f.removed}`;
      const what = f.status === 'modified' ? '' : ` (${f.status}${f.status === 'renamed' || f.status === 'copied' ? ` from ${f.oldPath}` : ''})`;
      out.push(`    ${f.path.padEnd(width)} | ${change}, ${f.hunks.length} hunk${f.hunks.length === 1 ? '' : 's'}${what}`);
    }
    out.push(`    ${p.files.length} file${p.files.length === 1 ? '' : 's'} changed, ${p.added} insertions(+), ${p.removed} deletions(-)`);
  }
  return out.join('\n');
}
