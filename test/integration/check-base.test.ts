// `netmem check` on the pinned real base (Linux 6.1.192): exactly the known violations across the whole
// tree, the output formats and exit codes (--fix and a build of the fixed files: check-fix.test.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cacheRoot } from '../../extension/core/util/assets';
import { pristineBase } from '../helpers/base';
import { netmem } from '../helpers/cli';

const work = mkdtempSync(join(process.env.NETMEM_TEST_TMP ?? tmpdir(), 'netmem-check-it-'));
let base = '';

const EXPECTED = [
  "drivers/infiniband/hw/hfi1/ipoib_tx.c:220:11: warning: direct access to skb_frag_t field 'bv_offset': use skb_frag_off() [frag-field-access]",
  "drivers/net/ethernet/natsemi/ns83820.c:1148:39: warning: direct access to skb_frag_t field 'page' (a pre-5.4 name; this tree's skb_frag_t has bv_page, bv_len, bv_offset): use skb_frag_page() (in an argument of macro dprintk, at its use site) [frag-field-access]",
  "drivers/net/ethernet/natsemi/ns83820.c:1149:4: warning: direct access to skb_frag_t field 'page_offset' (a pre-5.4 name; this tree's skb_frag_t has bv_page, bv_len, bv_offset): use skb_frag_off() (in an argument of macro dprintk, at its use site) [frag-field-access]",
];

describe('netmem check on the real base', { timeout: 10 * 60_000 }, () => {
  // Under the cache, on the base checkout's file system, for the hard-linked copy pristineBase may make.
  const pristineParent = mkdtempSync(join(cacheRoot(), 'check-it-'));
  before(async () => {
    base = (await pristineBase(pristineParent)).dir;
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
    rmSync(pristineParent, { recursive: true, force: true });
  });

  it('finds exactly ipoib_tx.c and ns83820.c in the whole tree', async () => {
    const r = await netmem(['check'], { cwd: base });
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), EXPECTED);
    assert.match(r.stderr, /3 finding\(s\) in 2 file\(s\)/);
    assert.match(r.stderr, /skipped include\/linux\/skbuff\.h: .*helpers/);
  });

  it('prints paths relative to the kernel tree from elsewhere, and json/sarif', async () => {
    const gcc = await netmem(['check', '--kernel', base, join(base, 'drivers/infiniband/hw/hfi1'), join(base, 'net/ceph'), join(base, 'net/sunrpc'), join(base, 'io_uring'), join(base, 'block')], { cwd: work });
    assert.equal(gcc.code, 1, gcc.stderr);
    assert.deepEqual(gcc.stdout.trim().split('\n'), [EXPECTED[0]]);
    const json = await netmem(['check', '--format', 'json', join(base, 'drivers/net/ethernet/natsemi/ns83820.c')], { cwd: work });
    assert.equal(json.code, 1, json.stderr);
    const found = JSON.parse(json.stdout);
    assert.equal(found.length, 2);
    assert.ok(found.every((f: { viaMacro?: string }) => f.viaMacro === 'use'));
    const sarif = await netmem(['check', '--format', 'sarif', join(base, 'drivers/infiniband/hw/hfi1/ipoib_tx.c')], { cwd: work });
    const doc = JSON.parse(sarif.stdout);
    assert.equal(doc.version, '2.1.0');
    assert.equal(doc.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri, 'drivers/infiniband/hw/hfi1/ipoib_tx.c');
    assert.equal(doc.runs[0].results[0].locations[0].physicalLocation.region.startLine, 220);
  });

  it('exit 0 on clean code, 2 when it cannot run', async () => {
    const clean = await netmem(['check', join(base, 'net/core/skbuff.c'), join(base, 'net/kcm')], { cwd: work });
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stdout, '');
    const missing = await netmem(['check', join(work, 'nope.c')], { cwd: work });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file/);
    const badKernel = await netmem(['check', '--kernel', work, join(base, 'net/core/skbuff.c')], { cwd: work });
    assert.equal(badKernel.code, 2);
    const badFormat = await netmem(['check', '--format', 'xml'], { cwd: base });
    assert.equal(badFormat.code, 2);
  });
  // --fix on the real files, and the fixed objects compiled: check-fix.test.ts.
});
