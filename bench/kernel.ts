// Kernel benchmark (a script that prints figures, not a test):
//   1. apply the series + the compile suite, on a fresh copy of the pinned base;
//   2. an edit of include/linux/skbuff.h → rebuilt and booted verdict, with a warm ccache.
// Usage: npm run bench:kernel [-- --keep]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { bisectRoot } from '../extension/core/kernel/runner';
import { cacheRoot } from '../extension/core/util/assets';

const root = join(__dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const cache = cacheRoot();

function netmem(args: string[]): { code: number; out: string; seconds: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? 2, out: r.stdout, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

function ccacheStats(): Record<string, number> {
  try {
    const out = execFileSync('ccache', ['--print-stats'], { encoding: 'utf8' });
    return Object.fromEntries(out.trim().split('\n').map((l) => l.split('\t')).map(([k, v]) => [k!, Number(v)]));
  } catch {
    return {};
  }
}

const fmt = (s: number) => `${s.toFixed(1)} s`;
const base = netmem(['base']).out.trim();
const work = mkdtempSync(join(cache, 'bench-'));
const copy = join(work, basename(base));
const buildDir = join(work, 'build', 'bench0000000');
const rows: string[][] = [];
try {
  execFileSync('cp', ['-al', base, copy]);
  // The cached checkout may have the series applied already (npm start does that): start from the
  // base commit so the apply figure measures a real apply.
  execFileSync('git', ['checkout', '-q', '-f', '-B', 'base', 'netmem-base'], { cwd: copy, stdio: 'ignore' });
  const apply = netmem(['apply', '--kernel', copy]);
  if (apply.code !== 0) throw new Error(`apply failed:\n${apply.out}`);
  const compile = netmem(['test', '--kernel', copy, '--suite', 'compile', '--build-dir', buildDir]);
  rows.push(['apply the series', fmt(apply.seconds)], ['compile suite (configure, prepare, touched objects), fresh O= dir', `${fmt(compile.seconds)} (exit ${compile.code})`]);

  const warm = netmem(['test', '--kernel', copy, '--suite', 'boot', '--build-dir', buildDir]);
  rows.push(['boot suite, first build in this O= dir (ccache as it was)', `${fmt(warm.seconds)} (exit ${warm.code})`]);

  // The edit: a new comment line in skbuff.h, as a developer's save would be (written by rename, so
  // the hard-linked base is not touched).
  const header = join(copy, 'include/linux/skbuff.h');
  const text = readFileSync(header, 'utf8');
  writeFileSync(`${header}.tmp`, text.replace('#ifndef _LINUX_SKBUFF_H', '/* netmem bench edit */\n#ifndef _LINUX_SKBUFF_H'));
  renameSync(`${header}.tmp`, header);
  const before = ccacheStats();
  const edit = netmem(['test', '--kernel', copy, '--suite', 'boot', '--build-dir', buildDir]);
  const after = ccacheStats();
  const hits = (after.direct_cache_hit ?? 0) + (after.preprocessed_cache_hit ?? 0) - (before.direct_cache_hit ?? 0) - (before.preprocessed_cache_hit ?? 0);
  const misses = (after.cache_miss ?? 0) - (before.cache_miss ?? 0);
  rows.push(['edit skbuff.h → rebuilt and booted verdict (warm ccache)', `${fmt(edit.seconds)} (exit ${edit.code}; ccache ${hits} hits, ${misses} misses)`]);
} finally {
  if (!process.argv.includes('--keep')) {
    rmSync(bisectRoot(copy), { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}
const width = Math.max(...rows.map((r) => r[0]!.length));
console.log(`\nKernel benchmark on ${base} (${availableParallelism()} cores)`);
for (const [what, figure] of rows) console.log(`  ${what.padEnd(width)}  ${figure}`);
