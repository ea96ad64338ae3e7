// Benchmark of the frag-access checker (prints figures; not a test).
//
//   npm run bench:check                 # keystroke path + whole tree + rg
//   npm run bench:check -- --cocci      # also Coccinelle with ../shared/peers/skbfrag.cocci (whole tree: > 28 min)
//   npm run bench:check -- --kernel DIR --runs 3 --keys 300
//   npm run bench:check -- --cocci --path drivers/net --path net   # all three sides on a subset
//
// The kernel defaults to the pinned base at its base commit: the checkout itself, or (when the series
// is applied there) a hard-linked copy under the cache, kept for the next run. Run on an otherwise idle
// machine: the figures are wall-clock times.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createChecker } from '../extension/core/check/checker';
import { cacheRoot } from '../extension/core/util/assets';
import { baseCheckout, pristineBase } from '../test/helpers/base';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const COCCI = join(ROOT, '..', 'shared', 'peers', 'skbfrag.cocci');

const { values } = parseArgs({
  options: {
    kernel: { type: 'string' },
    cocci: { type: 'boolean' },
    runs: { type: 'string', default: '3' },
    keys: { type: 'string', default: '300' },
    'no-tree': { type: 'boolean' },
    path: { type: 'string', multiple: true },
  },
  strict: true,
});

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

async function kernelDir(): Promise<string> {
  if (values.kernel) return resolve(values.kernel);
  const parent = join(cacheRoot(), 'bench-base');
  const base = await baseCheckout();
  const kept = join(parent, 'linux-6.1.192');
  try {
    if (git(kept, 'rev-parse', 'HEAD') === git(base, 'rev-parse', 'netmem-base^{commit}') && git(kept, 'status', '--porcelain', '-uno') === '') return kept;
  } catch {
    /* no usable copy */
  }
  execFileSync('rm', ['-rf', kept]);
  return (await pristineBase(parent)).dir;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

interface Timed {
  wallS: number;
  maxRssMb: number;
  cpuS: number;
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Run a command under /usr/bin/time for wall time, peak RSS (all threads) and CPU. */
function timed(cmd: string, args: string[], cwd: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const marker = '__NETMEM_TIME__';
    const child = spawn('/usr/bin/time', ['-f', `${marker} %e %M %U %S`, cmd, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stderr.split('\n').find((l) => l.startsWith(marker));
      const [, e, m, u, s] = (line ?? `${marker} 0 0 0 0`).split(' ');
      resolve({ wallS: Number(e), maxRssMb: Number(m) / 1024, cpuS: Number(u) + Number(s), stdout, stderr: stderr.replace(/^(__NETMEM_TIME__|Command exited).*\n?/gm, ''), code });
    });
  });
}

async function keystrokes(kernel: string, n: number): Promise<void> {
  const file = join(kernel, 'net', 'core', 'skbuff.c');
  const text = readFileSync(file, 'utf8');
  const checker = await createChecker({ kernelDir: kernel });
  const t0 = performance.now();
  checker.checkText(file, text, { retain: true });
  const first = performance.now() - t0;
  // Type inside skb_copy_ubufs()'s body, then delete again: one character per "keystroke".
  const anchor = text.indexOf('\n', text.indexOf('int skb_copy_ubufs(')) + 1;
  const at = text.indexOf('\n', text.indexOf('{', anchor)) + 1;
  const typed = '\tfrag_dummy += skb_shinfo(skb)->frags[0].bv_len;\n';
  const times: number[] = [];
  let incremental = 0;
  let cur = text;
  let findings = 0;
  for (let i = 0; i < n; i++) {
    const k = i % (2 * typed.length);
    const len = k < typed.length ? k + 1 : 2 * typed.length - k - 1;
    cur = text.slice(0, at) + typed.slice(0, len) + text.slice(at);
    const s = performance.now();
    const r = checker.checkText(file, cur, { retain: true });
    times.push(performance.now() - s);
    if (r.incremental) incremental++;
    findings = Math.max(findings, r.findings.length);
  }
  checker.dispose();
  console.log(`keystroke path: net/core/skbuff.c (${(text.length / 1024).toFixed(0)} KiB), ${n} one-character edits inside a function`);
  console.log(`  first full check ${first.toFixed(1)} ms; per keystroke p50 ${pct(times, 50).toFixed(2)} ms, p95 ${pct(times, 95).toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms (target p95 <= 12 ms)`);
  console.log(`  ${incremental}/${n} re-checked incrementally; the typed access was found (max ${findings} finding(s))`);
}

function findingKeys(lines: string[], kernel: string): string[] {
  const out = new Set<string>();
  for (const l of lines) {
    const m = /^(?:\S*?)([^\s:]+\.[ch]):(\d+):/.exec(l);
    if (m) out.add(`${relative(kernel, resolve(kernel, m[1]))}:${m[2]}`);
  }
  return [...out].sort();
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('run `npm run build` first');
  const kernel = await kernelDir();
  console.log(`kernel: ${kernel}`);
  await keystrokes(kernel, Number(values.keys));
  if (values['no-tree']) return;

  const paths = values.path ?? [];
  for (const p of paths) if (!existsSync(join(kernel, p))) throw new Error(`--path ${p}: not in ${kernel}`);
  const scope = paths.length ? `the subset ${paths.join(' ')} (all three sides)` : 'the whole tree';
  const runs = Number(values.runs);
  const ours: Timed[] = [];
  for (let i = 0; i < runs; i++) ours.push(await timed(process.execPath, [CLI, 'check', '--kernel', kernel, ...paths], kernel));
  const best = [...ours].sort((a, b) => a.wallS - b.wallS);
  const med = best[Math.floor(best.length / 2)];
  const ourKeys = findingKeys(med.stdout.split('\n'), kernel);
  console.log(`\n${scope}, netmem check (${runs} runs, warm page cache):`);
  console.log(`  wall median ${med.wallS.toFixed(2)} s (min ${best[0].wallS.toFixed(2)} s), CPU ${med.cpuS.toFixed(2)} s, peak RSS ${Math.max(...ours.map((o) => o.maxRssMb)).toFixed(0)} MB (targets <= 4 s, <= 250 MB)`);
  console.log(`  ${med.stderr.trim().split('\n').pop()}`);

  const rg = await timed('rg', ['-n', '-g', '*.[ch]', '\\bbv_(page|len|offset)\\b', ...(paths.length ? paths : ['.'])], kernel);
  const rgLines = rg.stdout.trim().split('\n').filter(Boolean);
  console.log(`\nrg -n '\\bbv_(page|len|offset)\\b' on ${scope}: ${rg.wallS.toFixed(2)} s, ${rgLines.length} hits in ${new Set(rgLines.map((l) => l.split(':')[0])).size} files`);

  let cocciKeys: string[] | null = null;
  let cocciWall = 0;
  if (values.cocci) {
    if (!existsSync(COCCI)) throw new Error(`${COCCI} is missing`);
    const common = [
      '--sp-file', COCCI, '--include-headers', '--include-headers-for-types', '--all-includes',
      '-I', join(kernel, 'include'), '-I', join(kernel, 'arch/x86/include'), '-I', join(kernel, 'include/uapi'),
      '--jobs', '2', '--disable-worth-trying-opt', '-D', 'report', '--very-quiet',
    ];
    // spatch takes one --dir; a subset runs one spatch per path, timed together.
    const targets = paths.length ? paths.map((p) => join(kernel, p)) : [kernel];
    let out = '';
    let rss = 0;
    const codes: (number | null)[] = [];
    for (const t of targets) {
      // spatch keeps its scratch files in its working directory: not in the tree.
      const c = await timed('spatch', [...common, '--dir', t], tmpdir());
      cocciWall += c.wallS;
      rss = Math.max(rss, c.maxRssMb);
      codes.push(c.code);
      out += c.stdout;
      if (c.code !== 0) console.log(`  spatch on ${relative(kernel, t) || '.'} exited ${c.code}: ${c.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    cocciKeys = findingKeys(out.split('\n'), kernel);
    console.log(`\nCoccinelle (${relative(ROOT, COCCI)}) on ${scope}: ${cocciWall.toFixed(1)} s, peak RSS ${rss.toFixed(0)} MB, exit ${codes.join(',')}, ${cocciKeys.length} distinct file:line`);
  }

  console.log('\ntime ratios (wall):');
  console.log(`  netmem check / rg          ${(med.wallS / Math.max(rg.wallS, 0.01)).toFixed(1)}x`);
  if (values.cocci) console.log(`  Coccinelle / netmem check  ${(cocciWall / Math.max(med.wallS, 0.01)).toFixed(1)}x`);

  const all = new Set([...ourKeys, ...(cocciKeys ?? [])]);
  const rgFiles = new Set(rgLines.map((l) => relative(kernel, join(kernel, l.split(':')[0]))));
  const rgAt = new Set(rgLines.map((l) => { const [f, n] = l.split(':'); return `${relative(kernel, join(kernel, f))}:${n}`; }));
  console.log('\nfindings side by side (file:line | netmem | coccinelle | rg line hit):');
  for (const k of [...all].sort()) {
    const f = k.split(':')[0];
    console.log(`  ${k.padEnd(58)} ${ourKeys.includes(k) ? 'yes' : ' - '}     ${cocciKeys ? (cocciKeys.includes(k) ? 'yes' : ' - ') : 'n/a'}        ${rgAt.has(k) ? 'yes' : rgFiles.has(f) ? 'file' : ' - '}`);
  }
  if (cocciKeys) {
    const both = ourKeys.filter((k) => cocciKeys.includes(k)).length;
    console.log(`  (both: ${both}; only netmem check: ${ourKeys.length - both}; only Coccinelle: ${cocciKeys.length - both})`);
  }
  console.log(`  (rg: ${rgLines.length} hits overall, ${rgLines.length - ourKeys.filter((k) => rgAt.has(k)).length} of them not findings)`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 2;
});
