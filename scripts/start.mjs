// npm start: the main job end to end on the embedded default — prepare the pinned base, apply the
// bundled series on a new branch, run every kernel test suite, and print a short report.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');
const t0 = Date.now();


/** Runs `netmem ARGS`, passing stderr through; resolves with exit code and stdout. */
function netmem(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 130 : 2), out }));
  });
}

// Ctrl-C reaches the child through the terminal's process group; just do not die before it does.
process.on('SIGINT', () => undefined);

const step = (name) => console.error(`\n== ${name} (${Math.round((Date.now() - t0) / 1000)} s)`);
const report = [];

step('netmem base');
const base = await netmem(['base']);
if (base.code !== 0) process.exit(base.code);
const kernel = base.out.trim();
report.push(`base:   ${kernel}`);

step('netmem apply');
const apply = await netmem(['apply', '--kernel', kernel]);
process.stdout.write(apply.out);
if (apply.code !== 0) process.exit(apply.code);
report.push(`series: ${apply.out.trim().split('\n')[0]}`);

step('netmem test --suite all');
const test = await netmem(['test', '--kernel', kernel, '--suite', 'all', '--format', 'json']);
let verdict;
try {
  verdict = JSON.parse(test.out);
} catch {
  process.exit(test.code || 2);
}
const failed = verdict.results.filter((r) => r.status === 'fail');
for (const r of failed) console.log(`FAIL ${r.name}\n${(r.message ?? '').replace(/^/gm, '     ')}`);
const k = verdict.kunitTotals;
report.push(
  `tests:  ${verdict.counts.pass} passed, ${verdict.counts.fail} failed, ${verdict.counts.skip} skipped` +
    (k ? ` (KUnit ${k.pass}/${k.total})` : ''),
);
if (verdict.bootLog) report.push(`log:    ${verdict.bootLog}`);
console.log(`\n${report.join('\n')}\n${verdict.ok ? 'PASSED' : 'FAILED'} in ${Math.round((Date.now() - t0) / 1000)} s`);
process.exit(test.code);
