// `netmem test` on the real kernel: the base passes compile and boot without the series; the series
// applies, builds patch by patch and boots; a compile error, a BUG() in the guest path and a guest that
// never ends each give a failed verdict with the right lines, within the timeout.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bisectRoot, type RunnerReport } from '../../extension/core/kernel/runner';
import { cacheRoot } from '../../extension/core/util/assets';
import { pristineBase } from '../helpers/base';
import { netmem, ROOT } from '../helpers/cli';

const cache = cacheRoot();
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

async function suite(kernel: string, name: string, extra: string[] = []): Promise<{ code: number | null; report: RunnerReport; stderr: string; ms: number }> {
  const t0 = Date.now();
  const r = await netmem(['test', '--kernel', kernel, '--suite', name, '--format', 'json', ...extra]);
  let report: RunnerReport;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    assert.fail(`netmem test --suite ${name} printed no report (exit ${r.code}):\n${r.stderr.slice(-3000)}`);
  }
  return { code: r.code, report, stderr: r.stderr, ms: Date.now() - t0 };
}

const failures = (report: RunnerReport) => report.results.filter((r) => r.status === 'fail');
const describeFailures = (report: RunnerReport) => failures(report).map((r) => `${r.id}: ${r.message ?? ''}\n${(r.excerpt ?? []).join('\n')}`).join('\n---\n');

/** Writes a file by rename, so that a hard-linked copy never writes through to the original. */
function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.netmem-tmp`, text);
  renameSync(`${path}.netmem-tmp`, path);
}

describe('netmem test on the real kernel', { timeout: 75 * 60_000 }, () => {
  let base = '';
  /** Extra flags for the base's runs: a pristine copy gets a build directory laid out for ccache hits. */
  let baseArgs: string[] = [];
  // A hard-linked copy of the base for the series and the broken trees, laid out like the base and
  // its build directory so that ccache hits across them.
  const work = mkdtempSync(join(cache, 'it-'));
  let copy = '';
  const copyBuild = join(work, 'build', 'integration0');

  before(async () => {
    const pristine = await pristineBase(join(work, 'pristine'));
    copy = join(work, basename(pristine.dir));
    base = pristine.dir;
    // A copy gets a build directory laid out like the base's, for ccache hits.
    if (pristine.copied) baseArgs = ['--build-dir', join(work, 'pristine', 'build', 'pristine000')];
  });
  after(() => {
    if (copy) rmSync(bisectRoot(copy), { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('compile passes on the base', async () => {
    const { code, report } = await suite(base, 'compile', baseArgs);
    assert.equal(code, 0, describeFailures(report));
    const ids = report.results.map((r) => r.id);
    assert.ok(ids.includes('compile/prepare'));
    assert.ok(ids.includes('compile/net/core/skbuff.o'), ids.join(' '));
  });

  it('boot passes on the base without the series: every guest test and the KUnit suite', async () => {
    const { code, report } = await suite(base, 'boot', baseArgs);
    assert.equal(code, 0, describeFailures(report));
    const guest = report.results.filter((r) => r.kind === 'guest');
    const programs = new Set(guest.map((r) => r.id.split('/')[1]));
    assert.deepEqual([...programs].sort(), ['kcm', 'tcp_frags', 'vsock_loopback']);
    assert.ok(guest.length >= 15, `${guest.length} guest results`);
    assert.ok(guest.every((r) => r.status === 'pass'));
    assert.ok(report.kunitTotals && report.kunitTotals.total > 0 && report.kunitTotals.fail === 0, JSON.stringify(report.kunitTotals));
    assert.ok(report.results.some((r) => r.kind === 'kunit' && r.status === 'pass'));
    const log = readFileSync(report.bootLog!, 'utf8');
    assert.match(log, /netmem-guest: done/);
  });

  it('a guest that never ends is killed at the timeout and reported as hung', async () => {
    const guest = join(work, 'guest-hang');
    cpSync(join(ROOT, 'kernel-ref', 'guest'), guest, { recursive: true });
    writeFileSync(join(guest, 'aa_hang.c'), '#include <stdio.h>\n#include <unistd.h>\nint main(void)\n{\n\tprintf("TAP version 13\\n1..1\\n");\n\tfflush(stdout);\n\tfor (;;)\n\t\tpause();\n}\n');
    const { code, report, ms } = await suite(base, 'boot', [...baseArgs, '--guest', guest, '--timeout', '25']);
    assert.equal(code, 1);
    assert.ok(ms < 25_000 + 120_000, `took ${ms} ms`);
    const hung = report.results.find((r) => r.id === 'boot/finished');
    assert.ok(hung, describeFailures(report));
    assert.match(hung.message!, /hung: killed at the timeout/);
    const prog = report.results.find((r) => r.id === 'guest/aa_hang/run');
    assert.match(prog?.message ?? '', /planned 1 tests but reported 0/);
    assert.ok(hung.excerpt!.some((l) => l.includes('netmem-guest: run aa_hang')));
  });

  it('the series applies with git am on the base', () => {
    execFileSync('cp', ['-al', base, copy]);
    const series = readFileSync(join(ROOT, 'patches', 'series'), 'utf8').split('\n').filter(Boolean);
    assert.equal(series.length, 3);
    git(copy, 'checkout', '-q', '-b', 'netmem-it');
    git(copy, '-c', 'user.name=t', '-c', 'user.email=t@t', 'am', '-q', ...series.map((p) => join(ROOT, 'patches', p)));
    assert.equal(git(copy, 'rev-list', '--count', 'netmem-base..HEAD'), '3');
    assert.equal(git(copy, 'status', '--porcelain'), '');
  });

  it('all passes with the series: compile, bisect patch by patch, boot', async () => {
    const { code, report } = await suite(copy, 'all', ['--build-dir', copyBuild]);
    assert.equal(code, 0, describeFailures(report));
    const bisect = report.results.filter((r) => r.id.startsWith('bisect/'));
    assert.deepEqual(bisect.map((r) => [r.id, r.status]), [['bisect/0', 'pass'], ['bisect/1', 'pass'], ['bisect/2', 'pass'], ['bisect/3', 'pass']]);
    assert.ok(report.results.filter((r) => r.kind === 'guest').length >= 15);
    assert.ok(report.kunitTotals && report.kunitTotals.fail === 0);
    assert.equal(git(copy, 'rev-list', '--count', 'netmem-base..HEAD'), '3', 'bisect left the checkout alone');
    assert.equal(git(copy, 'status', '--porcelain'), '');
  });

  it('a compile error fails compile with the error at its line, relative to the checkout', async () => {
    const file = join(copy, 'net/core/skbuff.c');
    const original = readFileSync(file, 'utf8');
    const lines = original.split('\n');
    const at = lines.findIndex((l) => l.startsWith('struct sk_buff *__alloc_skb(')) + 1;
    assert.ok(at > 0);
    lines.splice(at - 1, 0, 'int netmem_it_broken = ;');
    replaceFile(file, lines.join('\n'));
    try {
      const { code, report } = await suite(copy, 'compile', ['--build-dir', copyBuild]);
      assert.equal(code, 1);
      const failed = report.results.find((r) => r.id === 'compile/net/core/skbuff.o');
      assert.equal(failed?.status, 'fail', describeFailures(report));
      const error = report.diagnostics.find((d) => d.severity === 'error');
      assert.ok(error, 'an error record');
      assert.equal(error.file, 'net/core/skbuff.c');
      assert.equal(error.line, at);
      assert.match(failed!.message!, new RegExp(`net/core/skbuff\\.c:${at}:\\d+: error:`));
    } finally {
      replaceFile(file, original);
    }
  });

  it('a BUG() in the guest path fails boot with the kernel trace, within the timeout', async () => {
    const file = join(copy, 'net/kcm/kcmsock.c');
    const original = readFileSync(file, 'utf8');
    const marker = /^static int kcm_sendmsg\(struct socket \*sock, struct msghdr \*msg, size_t len\)\n\{\n/m;
    assert.match(original, marker);
    replaceFile(file, original.replace(marker, (m) => `${m}\tBUG();\n`));
    try {
      const { code, report, ms } = await suite(copy, 'boot', ['--build-dir', copyBuild, '--timeout', '120']);
      assert.equal(code, 1);
      const bug = report.results.find((r) => r.kind === 'kernel' && r.id.startsWith('kernel/bug/'));
      assert.ok(bug, describeFailures(report));
      // The path is as the build saw it (relative to the O= directory); the config has no KALLSYMS, so
      // the trace names the process, not the function.
      assert.match(bug.message!, /kernel BUG at (\S*\/)?net\/kcm\/kcmsock\.c:\d+!/);
      assert.ok(bug.excerpt!.some((l) => /Comm: kcm\b/.test(l)), bug.excerpt!.join('\n'));
      assert.ok(bug.excerpt!.some((l) => /end trace/.test(l)));
      assert.ok(ms < 120_000 + 600_000, `took ${ms} ms`);
    } finally {
      replaceFile(file, original);
    }
  });

  it('leaves no QEMU or make behind', () => {
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    assert.ok(!ps.split('\n').some((l) => l.startsWith('qemu-system-x86_64') && l.includes(work)));
    assert.deepEqual(readdirSync(work).filter((n) => n.endsWith('.netmem-tmp')), []);
  });
});
