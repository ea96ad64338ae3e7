import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTap } from '../../extension/core/kernel/report';
import { parseLog, stripLine } from '../../extension/core/kernel/verdict';

const kunitPass = `[    0.612345] KTAP version 1
[    0.612400] 1..1
[    0.612500]     KTAP version 1
[    0.612600]     # Subtest: netdev-addr-list-test
[    0.612700]     1..2
[    0.613000]     ok 1 dev_addr_test_basic
[    0.613500]     ok 2 dev_addr_test_sync_one
[    0.613600] # netdev-addr-list-test: pass:2 fail:0 skip:0 total:2
[    0.613700] # Totals: pass:2 fail:0 skip:0 total:2
[    0.613800] ok 1 netdev-addr-list-test`;

const guest = (body: string) => `[    1.000000] Run /init as init process
netmem-guest: userspace
netmem-guest: run tcp_frags
TAP version 13
1..2
${body}
netmem-guest: exit tcp_frags 0
netmem-guest: done`;

describe('serial log verdicts', () => {
  it('strips timestamps and carriage returns', () => {
    assert.equal(stripLine('[   12.345678] ok 1 x\r'), 'ok 1 x');
    assert.equal(stripLine('ok 1 x'), 'ok 1 x');
  });

  it('a clean boot: guest TAP and KUnit cases pass, totals are read', () => {
    const v = parseLog(`${kunitPass}\n${guest('ok 1 - sendfile 64MiB\nok 2 - splice 64MiB')}\n`);
    assert.equal(v.ok, true);
    assert.deepEqual(v.kunitTotals, { pass: 2, fail: 0, skip: 0, total: 2 });
    assert.deepEqual(
      v.results.map((r) => [r.id, r.status]),
      [
        ['kunit/netdev-addr-list-test/dev_addr_test_basic', 'pass'],
        ['kunit/netdev-addr-list-test/dev_addr_test_sync_one', 'pass'],
        ['guest/tcp_frags/1', 'pass'],
        ['guest/tcp_frags/2', 'pass'],
      ],
    );
    assert.equal(v.results[2]!.name, 'tcp_frags: sendfile 64MiB');
    assert.deepEqual(v.counts, { pass: 4, fail: 0, skip: 0 });
  });

  it('a failed guest test carries its diagnostics and lines', () => {
    const v = parseLog(guest('ok 1 - sendfile\n# sent 4096 bytes, checksum 1234 != 5678\nnot ok 2 - splice'));
    assert.equal(v.ok, false);
    const failed = v.results.filter((r) => r.status === 'fail');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.id, 'guest/tcp_frags/2');
    assert.equal(failed[0]!.message, 'sent 4096 bytes, checksum 1234 != 5678');
    assert.ok(failed[0]!.excerpt!.includes('not ok 2 - splice'));
  });

  it('SKIP is a skip, TODO does not fail', () => {
    const v = parseLog(guest('ok 1 - zerocopy # SKIP no SO_ZEROCOPY\nnot ok 2 - later # TODO not yet'));
    assert.equal(v.ok, true);
    assert.deepEqual(v.results.map((r) => r.status), ['skip', 'pass']);
    assert.equal(v.results[0]!.message, 'SKIP no SO_ZEROCOPY');
  });

  it('a failed KUnit case fails with its suite in the id', () => {
    const log = kunitPass.replace('    ok 2 dev_addr_test_sync_one', '    # dev_addr_test_sync_one: EXPECTATION FAILED at net/core/dev_addr_lists_test.c:80\n    not ok 2 dev_addr_test_sync_one').replace('fail:0 skip:0 total:2\n[    0.613800] ok 1', 'fail:1 skip:0 total:2\n[    0.613800] not ok 1').replace('# Totals: pass:2 fail:0', '# Totals: pass:1 fail:1');
    const v = parseLog(`${log}\n${guest('ok 1 - a\nok 2 - b')}`);
    assert.equal(v.ok, false);
    const failed = v.results.filter((r) => r.status === 'fail');
    assert.deepEqual(failed.map((r) => r.id), ['kunit/netdev-addr-list-test/dev_addr_test_sync_one']);
    assert.match(failed[0]!.message!, /EXPECTATION FAILED/);
    assert.equal(v.kunitTotals!.fail, 1);
  });

  it('a BUG with its Oops and panic is one failure per trace, with the lines around it', () => {
    const log = guest('ok 1 - a').replace(
      'ok 1 - a',
      [
        'ok 1 - a',
        '[    2.100000] kernel BUG at net/core/skbuff.c:123!',
        '[    2.100001] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI',
        '[    2.100002] CPU: 0 PID: 42 Comm: tcp_frags Not tainted 6.1.192 #1',
        '[    2.100003] RIP: 0010:skb_copy_ubufs+0x12/0x300',
        '[    2.100004] ---[ end trace 0000000000000000 ]---',
        '[    2.100005] Kernel panic - not syncing: Fatal exception',
        '[    2.100006] ---[ end Kernel panic - not syncing: Fatal exception ]---',
      ].join('\n'),
    );
    const v = parseLog(log.replace(/netmem-guest: exit[^\n]*\nnetmem-guest: done/, ''));
    const kernel = v.results.filter((r) => r.kind === 'kernel');
    assert.deepEqual(kernel.map((r) => r.id), ['kernel/bug/1', 'kernel/panic/1']);
    assert.match(kernel[0]!.message!, /kernel BUG at net\/core\/skbuff\.c:123!/);
    assert.ok(kernel[0]!.excerpt!.some((l) => l.includes('RIP: 0010:skb_copy_ubufs')));
    assert.ok(kernel[0]!.excerpt!.some((l) => l.includes('end trace')));
    // The guest died before its plan was complete and /init never finished.
    assert.ok(v.results.some((r) => r.id === 'guest/tcp_frags/run' && /planned 2 tests but reported 1/.test(r.message!)));
    assert.ok(v.results.some((r) => r.id === 'boot/finished'));
    assert.equal(v.ok, false);
  });

  it("a BUG reported after 'cut here' is a bug, not a warning", () => {
    const log = guest('ok 1 - a').replace(
      'ok 1 - a',
      'ok 1 - a\n[    2.1] ------------[ cut here ]------------\n[    2.1] kernel BUG at ../../linux/net/kcm/kcmsock.c:909!\n[    2.1] invalid opcode: 0000 [#1]\n[    2.1] ---[ end trace 0000000000000000 ]---',
    );
    const kernel = parseLog(log).results.filter((r) => r.kind === 'kernel');
    assert.deepEqual(kernel.map((r) => r.id), ['kernel/bug/1']);
    assert.equal(kernel[0]!.message, 'kernel BUG at ../../linux/net/kcm/kcmsock.c:909!');
  });

  it('a WARNING is a failure named by its location', () => {
    const log = guest('ok 1 - a\nok 2 - b').replace(
      'netmem-guest: run',
      '[    1.5] ------------[ cut here ]------------\n[    1.5] WARNING: CPU: 1 PID: 1 at net/core/skbuff.c:700 skb_release_data+0x1/0x2\n[    1.5] ---[ end trace 0 ]---\nnetmem-guest: run',
    );
    const v = parseLog(log);
    const w = v.results.filter((r) => r.kind === 'kernel');
    assert.equal(w.length, 1);
    assert.match(w[0]!.message!, /^WARNING: CPU: 1 PID: 1 at net\/core\/skbuff\.c:700/);
    assert.equal(v.ok, false);
  });

  it('a guest that never reaches userspace fails, and says when it was a timeout', () => {
    const v = parseLog('[    0.1] Linux version 6.1.192\n[    0.2] VFS: Cannot open root device', { timedOut: true });
    assert.equal(v.ok, false);
    assert.equal(v.reachedUserspace, false);
    assert.match(v.results.find((r) => r.id === 'boot/userspace')!.message!, /before the timeout/);
  });

  it('a hang after userspace is a failure saying it hung', () => {
    const v = parseLog('netmem-guest: userspace\nnetmem-guest: run tcp_frags\n1..2\nok 1 - a\n', { timedOut: true });
    assert.equal(v.ok, false);
    assert.match(v.results.find((r) => r.id === 'boot/finished')!.message!, /hung/);
  });

  it('a program that exits non-zero without a failing result fails', () => {
    const v = parseLog(guest('ok 1 - a\nok 2 - b').replace('exit tcp_frags 0', 'exit tcp_frags 139'));
    assert.equal(v.ok, false);
    assert.match(v.results.find((r) => r.id === 'guest/tcp_frags/run')!.message!, /exited with status 139/);
  });

  it('a program that prints nothing fails', () => {
    const v = parseLog('netmem-guest: userspace\nnetmem-guest: run vsock\nnetmem-guest: exit vsock 0\nnetmem-guest: done\n');
    assert.match(v.results.find((r) => r.id === 'guest/vsock/run')!.message!, /printed no TAP results/);
  });

  it('the word "ok" in ordinary kernel lines is not a result', () => {
    const v = parseLog(guest('ok 1 - a\nok 2 - b').replace('netmem-guest: userspace', 'netmem-guest: userspace\n[    0.9] Checking ok status: fine\nokay then'));
    assert.equal(v.results.length, 2);
  });

  it('TAP output lists every result and failure details', () => {
    const v = parseLog(guest('ok 1 - a\nnot ok 2 - b'));
    const tap = formatTap(v);
    assert.match(tap, /^TAP version 13\n1\.\.2\nok 1 - tcp_frags: a\nnot ok 2 - tcp_frags: b\n {2}---/);
  });
});
