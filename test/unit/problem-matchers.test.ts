// The problem matchers as package.json declares them ($netmem-gcc, $netmem-kernel), run the way VS
// Code runs them (a JavaScript RegExp per line, groups by index) over what the runner prints: real
// compiler lines from kernel builds through parseBuildOutput/formatDiagnostic, and real serial-log
// lines through parseLog/failureLocation/problemLine.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { formatDiagnostic, parseBuildOutput } from '../../extension/core/kernel/diagnostics';
import { formatText, problemLine, withRoot } from '../../extension/core/kernel/report';
import { failureLocation, type RunnerReport, type RunnerResult } from '../../extension/core/kernel/runner';
import { parseLog } from '../../extension/core/kernel/verdict';

interface Pattern {
  regexp: string;
  file: number;
  line: number;
  column?: number;
  severity?: number;
  code?: number;
  message: number;
}
interface Matcher {
  name: string;
  owner: string;
  fileLocation: string | string[];
  pattern: Pattern;
}

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
const matchers: Matcher[] = manifest.contributes.problemMatchers;

function matcher(name: string): Matcher {
  const m = matchers.find((x) => x.name === name);
  assert.ok(m, `package.json has no problem matcher ${name}`);
  return m;
}

interface Problem {
  file: string;
  line: number;
  column?: number;
  severity?: string;
  code?: string;
  message: string;
}

/** Each line as VS Code's line matcher reads it: one RegExp, groups by the pattern's indexes. */
function scan(name: string, text: string): Problem[] {
  const p = matcher(name).pattern;
  const re = new RegExp(p.regexp);
  const out: Problem[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = re.exec(line);
    if (!m) continue;
    const g = (i?: number) => (i === undefined ? undefined : m[i]);
    out.push({
      file: m[p.file]!,
      line: Number(m[p.line]),
      column: g(p.column) === undefined ? undefined : Number(g(p.column)),
      severity: g(p.severity),
      code: g(p.code),
      message: m[p.message]!,
    });
  }
  return out;
}

// Real lines from a kernel build with O= outside the checkout (the checkout was /work/series-build).
const SRC = '/work/series-build';
const BUILD_OUTPUT = [
  '  CC      drivers/net/ethernet/faraday/ftmac100.o',
  '/work/series-build/drivers/net/ethernet/faraday/ftmac100.c: In function ‘ftmac100_alloc_rx_page’:',
  '/work/series-build/drivers/net/ethernet/faraday/ftmac100.c:275:25: warning: cast from pointer to integer of different size [-Wpointer-to-int-cast]',
  '  275 |         rxdes->rxdes3 = (unsigned int)page;',
  '      |                         ^',
  '/work/series-build/net/iucv/af_iucv.c:31:10: fatal error: asm/ebcdic.h: No such file or directory',
  '   31 | #include <asm/ebcdic.h>',
  'compilation terminated.',
  "ld: net/core/skbuff.o: in function `f': skbuff.c:(.text+0x1): undefined reference to `g'",
  'make[4]: *** [/work/series-build/scripts/Makefile.build:250: net/iucv/af_iucv.o] Error 1',
].join('\n');

// Real serial-log lines of a boot (KUnit and a guest program), with a trace in the kernel's format.
const REAL_BOOT = [
  'NET: Registered PF_KCM protocol family',
  'KTAP version 1',
  '1..1',
  '    KTAP version 1',
  '    # Subtest: dev-addr-list-test',
  '    1..2',
  '    ok 1 dev_addr_test_basic',
  '    # dev_addr_test_sync_one: EXPECTATION FAILED at net/core/dev_addr_lists_test.c:80',
  '    not ok 2 dev_addr_test_sync_one',
  '# dev-addr-list-test: pass:1 fail:1 skip:0 total:2',
  '# Totals: pass:1 fail:1 skip:0 total:2',
  'not ok 1 dev-addr-list-test',
  'Run /init as init process',
  'netmem-guest: userspace (kernel 6.1.192+, 1 cpu)',
  'netmem-guest: run kcm',
  'TAP version 13',
  '1..3',
  'ok 1 - the BPF length-prefix parser loads as a socket filter',
  '[    2.1] ------------[ cut here ]------------',
  '[    2.1] kernel BUG at ../../linux/net/kcm/kcmsock.c:909!',
  '[    2.1] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI',
  '[    2.1] ---[ end trace 0000000000000000 ]---',
  '[    2.2] ------------[ cut here ]------------',
  '[    2.2] WARNING: CPU: 0 PID: 1 at net/core/skbuff.c:456 skb_release_data+0x1/0x2',
  '[    2.2] ---[ end trace 0000000000000001 ]---',
  '# TCP->KCM: 9 of 10 messages intact',
  'not ok 2 - TCP -> KCM: framed messages of 4 B .. 300 KB arrive whole and intact',
  'ok 3 - SIOCKCMUNATTACH gives the TCP socket back for plain reads',
  'netmem-guest: exit kcm 1',
  'netmem-guest: done',
  '[    3.0] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000',
].join('\n');

const checkout = mkdtempSync(join(tmpdir(), 'netmem-matchers-'));
after(() => rmSync(checkout, { recursive: true, force: true }));
for (const f of ['net/kcm/kcmsock.c', 'net/core/skbuff.c']) {
  mkdirSync(join(checkout, f, '..'), { recursive: true });
  writeFileSync(join(checkout, f), '');
}
const LOG = join(checkout, '..', 'build', 'netmem-boot.log');

function bootResults(): RunnerResult[] {
  return parseLog(REAL_BOOT).results.map((r) => ({
    ...r,
    location: r.status === 'fail' ? failureLocation(r, { srcDir: checkout, buildDir: join(checkout, '..', 'build') }, LOG) : undefined,
  }));
}

describe('problem matchers in package.json', () => {
  it('both resolve files against the linked checkout, relative or absolute, and own their markers', () => {
    for (const name of ['netmem-gcc', 'netmem-kernel']) {
      const m = matcher(name);
      assert.deepEqual(m.fileLocation, ['autoDetect', '${command:netmem.tasks.kernelDir}'], name);
      // Not the checker's diagnostic collection: a task run must not wipe the editor's diagnostics.
      assert.notEqual(m.owner, 'netmem');
    }
  });

  it('$netmem-gcc reads every compiler record the runner prints, with checkout-relative paths', () => {
    const records = parseBuildOutput(BUILD_OUTPUT, { srcDir: SRC, buildDir: '/root/.cache/netmem-series/build/x' });
    const printed = records.map(formatDiagnostic).join('\n');
    assert.deepEqual(scan('netmem-gcc', printed), [
      { file: 'drivers/net/ethernet/faraday/ftmac100.c', line: 275, column: 25, severity: 'warning', code: '-Wpointer-to-int-cast', message: 'cast from pointer to integer of different size' },
      { file: 'net/iucv/af_iucv.c', line: 31, column: 10, severity: 'error', code: undefined, message: 'asm/ebcdic.h: No such file or directory' },
    ]);
  });

  it('$netmem-gcc reads gcc and sparse lines as the compiler prints them, and nothing else of a build', () => {
    const found = scan('netmem-gcc', BUILD_OUTPUT);
    assert.deepEqual(found.map((p) => [p.file, p.line, p.severity]), [
      ['/work/series-build/drivers/net/ethernet/faraday/ftmac100.c', 275, 'warning'],
      ['/work/series-build/net/iucv/af_iucv.c', 31, 'error'],
    ]);
    assert.deepEqual(scan('netmem-gcc', "net/core/skbuff.c:77:6: warning: symbol 'foo' was not declared. Should it be static?")[0]?.line, 77);
    assert.equal(scan('netmem-gcc', 'net/kcm/kcmsock.c:10: fatal error: linux/nope.h: No such file or directory')[0]?.severity, 'error');
  });

  it('$netmem-kernel puts a BUG and a WARNING on the source line the kernel names', () => {
    const printed = bootResults().map(problemLine).filter(Boolean).join('\n');
    const found = scan('netmem-kernel', printed);
    const bug = found.find((p) => p.code === 'bug');
    assert.deepEqual(bug && [bug.file, bug.line, bug.message], ['net/kcm/kcmsock.c', 909, 'kernel BUG at ../../linux/net/kcm/kcmsock.c:909!']);
    const warning = found.find((p) => p.code === 'warning');
    assert.deepEqual(warning && [warning.file, warning.line, warning.severity], ['net/core/skbuff.c', 456, 'warning']);
    assert.match(warning!.message, /^WARNING: CPU: 0 PID: 1 at net\/core\/skbuff\.c:456 skb_release_data/);
  });

  it('$netmem-kernel puts a panic and failed guest and KUnit tests on their serial-log line', () => {
    const lines = REAL_BOOT.split('\n');
    const found = scan('netmem-kernel', bootResults().map(problemLine).filter(Boolean).join('\n'));
    const onLog = found.filter((p) => p.file === LOG);
    assert.deepEqual(onLog.map((p) => p.code).sort(), ['panic', 'test', 'test']);
    for (const p of onLog) assert.ok(p.line >= 1 && p.line <= lines.length, `${p.message} at log line ${p.line}`);
    const kunit = onLog.find((p) => p.message.startsWith('dev-addr-list-test: dev_addr_test_sync_one'));
    assert.ok(kunit, 'the failed KUnit case is a problem');
    assert.equal(lines[kunit.line - 1]!.trim(), 'not ok 2 dev_addr_test_sync_one');
    const guest = onLog.find((p) => p.message.startsWith('kcm: TCP -> KCM'));
    assert.ok(guest, 'the failed guest test is a problem');
    assert.match(lines[guest.line - 1]!, /^not ok 2 - TCP -> KCM/);
    const panic = onLog.find((p) => p.code === 'panic')!;
    assert.match(lines[panic.line - 1]!, /Kernel panic - not syncing/);
  });

  it('the text report carries both kinds of lines, each read by its matcher only', () => {
    const results = bootResults();
    const counts = { pass: 0, fail: 0, skip: 0 };
    for (const r of results) counts[r.status]++;
    const report: RunnerReport = {
      suite: 'boot',
      ok: false,
      results,
      diagnostics: parseBuildOutput(BUILD_OUTPUT, { srcDir: SRC }),
      counts,
      durationMs: 1000,
      bootLog: LOG,
    };
    const text = formatText(report);
    const gcc = scan('netmem-gcc', text);
    const kernel = scan('netmem-kernel', text);
    assert.equal(gcc.length, 2);
    assert.equal(kernel.length, results.filter((r) => r.status === 'fail').length);
    // No line is read by both.
    const gccLines = new Set(gcc.map((p) => `${p.file}:${p.line}`));
    for (const p of kernel) assert.ok(!gccLines.has(`${p.file}:${p.line}`) || p.code !== undefined);
  });

  it('a report for another kernel than the linked one names absolute paths, which both matchers read', () => {
    const results = bootResults();
    const report: RunnerReport = { suite: 'boot', ok: false, results, diagnostics: parseBuildOutput(BUILD_OUTPUT, { srcDir: SRC }), counts: { pass: 0, fail: 1, skip: 0 }, durationMs: 1 };
    const other = '/srv/other-kernel';
    const relative = [...scan('netmem-gcc', formatText(report)), ...scan('netmem-kernel', formatText(report))];
    const moved = [...scan('netmem-gcc', formatText(withRoot(report, other))), ...scan('netmem-kernel', formatText(withRoot(report, other)))];
    assert.ok(relative.some((p) => !p.file.startsWith('/')), 'the plain report has checkout-relative paths');
    assert.equal(moved.length, relative.length);
    moved.forEach((p, i) => {
      const before = relative[i]!;
      assert.equal(p.file, before.file.startsWith('/') ? before.file : join(other, before.file));
      assert.equal(p.line, before.line);
    });
  });
});
