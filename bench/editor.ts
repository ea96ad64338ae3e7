// Benchmark of the editor's keystroke path outside VS Code (prints figures; not a test).
//
//   npm run bench:editor                       # 400 one-character edits on net/core/skbuff.c
//   npm run bench:editor -- --keys 1000 --kernel DIR
//
// Drives the check worker (EditorCheckWorker, a real worker thread) as diagnostics.ts does with
// `netmem.check.debounceMs` 0: per keystroke one `change` (the editor's content change) and one
// `check`, timed from posting the change to having the findings on this thread, and broken down:
// the trip to the worker, applying the change, the tree edit, the parse (of the edited function
// alone), the rules, converting findings, and the trip back (structured clone of the findings). After
// the edits, a pause lets the worker reparse the whole tree; the findings must not change by that and
// must equal a fresh check. The kernel is the pinned base checkout (`node dist/cli.js base`), read only.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EditorCheckWorker } from '../extension/core/check/editorClient';
import { epochMs, SETTLE_AFTER_MS, type CheckTrace } from '../extension/core/check/editorWorker';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');

const { values } = parseArgs({
  options: { kernel: { type: 'string' }, keys: { type: 'string', default: '400' } },
  strict: true,
});

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('run `npm run build` first');
  const kernel = values.kernel ? resolve(values.kernel) : execFileSync(process.execPath, [CLI, 'base'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  const file = join(kernel, 'net', 'core', 'skbuff.c');
  const text = readFileSync(file, 'utf8');
  const n = Number(values.keys);
  const worker = new EditorCheckWorker((m) => console.error(`worker: ${m}`));
  let rechecks = 0;
  worker.onDidRecheck(() => rechecks++);
  let version = 1;
  const t0 = performance.now();
  worker.open(file, version, text, kernel);
  const first = await worker.check(file);
  if (first.type !== 'checked') throw new Error(`first check: ${first.type}`);
  const firstMs = performance.now() - t0;

  // Type a statement into skb_copy_ubufs()'s body one character at a time, then delete it again
  // with backspace, as the editor reports it (offset, replaced length, inserted text).
  const fn = text.indexOf('int skb_copy_ubufs(');
  const at = text.indexOf('\n', text.indexOf('{', fn)) + 1;
  const typed = '\tfrag_dummy += skb_shinfo(skb)->frags[0].bv_len;\n';
  let cur = text;
  const rows: { total: number; toWorker: number; worker: number; back: number; trace: CheckTrace }[] = [];
  let most = 0;
  let incremental = 0;
  for (let i = 0; i < n; i++) {
    const k = i % (2 * typed.length);
    const change = k < typed.length ? { offset: at + k, length: 0, text: typed[k] } : { offset: at + (2 * typed.length - k - 1), length: 1, text: '' };
    cur = cur.slice(0, change.offset) + change.text + cur.slice(change.offset + change.length);
    version++;
    const posted = epochMs();
    worker.change(file, version, cur.length, [change]);
    const r = await worker.check(file);
    const done = epochMs();
    if (r.type !== 'checked' || r.version !== version || !r.trace) throw new Error(`edit ${i}: ${r.type}`);
    most = Math.max(most, r.findings.length);
    if (r.incremental) incremental++;
    const tr = r.trace;
    rows.push({ total: done - posted, toWorker: tr.received - posted - tr.apply, worker: tr.sent - tr.received, back: done - tr.sent, trace: tr });
  }
  // A pause: the worker reparses the whole tree (settles) and would push findings that changed.
  await new Promise((r) => setTimeout(r, SETTLE_AFTER_MS + 200));
  // The held text and the incremental findings must be those of a fresh check of the same text.
  const fresh = await worker.checkOnce(file, cur, kernel);
  const last = await worker.check(file);
  const same = fresh.type === 'checked' && last.type === 'checked' && JSON.stringify(fresh.findings) === JSON.stringify(last.findings);
  worker.dispose();

  const line = (label: string, xs: number[]) => console.log(`  ${label.padEnd(34)} p50 ${pct(xs, 50).toFixed(2).padStart(6)} ms  p95 ${pct(xs, 95).toFixed(2).padStart(6)} ms  max ${Math.max(...xs).toFixed(2).padStart(6)} ms`);
  console.log(`kernel: ${kernel}`);
  console.log(`net/core/skbuff.c (${(text.length / 1024).toFixed(0)} KiB): first check in the worker ${firstMs.toFixed(0)} ms (header index, full parse); ${n} one-character edits`);
  line('change -> findings (total)', rows.map((r) => r.total));
  line('  message to the worker', rows.map((r) => r.toWorker));
  line('  applying the change', rows.map((r) => r.trace.apply));
  line('  in the worker (check + reply)', rows.map((r) => r.worker));
  line('    tree edit + line table', rows.map((r) => r.trace.edit ?? 0));
  line('    parse (the function alone)', rows.map((r) => r.trace.parse ?? 0));
  line('    rules (changed function)', rows.map((r) => r.trace.analyze ?? 0));
  line('    findings to line/col', rows.map((r) => r.trace.findings ?? 0));
  line('  reply to this thread', rows.map((r) => r.back));
  console.log(`  up to ${most} finding(s) per reply; ${incremental}/${n} incremental; final findings ${same ? 'equal' : 'DIFFER from'} a fresh check of the same text`);
  console.log(`  whole-tree reparse after the pause changed the findings ${rechecks} time(s)`);
  if (!same || rechecks) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
