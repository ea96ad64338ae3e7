// `netmem check --fix` on the two real violations of the pinned base, in a copy of the whole tree, and
// the fixed objects compiled by a real kernel build with the project's config (tinyconfig + our
// fragment, which enables CONFIG_INFINIBAND_HFI1 and CONFIG_NS83820).
//
// ipoib_tx.c: its one finding gets a fix, and the fixed line is compiled. ns83820.c: of its two
// findings (pre-5.4 names inside dprintk()), only `frag->page_offset` has a safe fix (`frag->page`
// was a struct, not the page pointer, so no helper call replaces it); and dprintk() there expands
// to nothing, so compiling ns83820.o shows only that the fix left the file well-formed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configure, DEFAULT_FRAGMENT, enabledObjects, make, parseConfig, type BuildContext } from '../../extension/core/kernel/build';
import { cacheRoot } from '../../extension/core/util/assets';
import { baseCheckout } from '../helpers/base';
import { netmem } from '../helpers/cli';

const IPOIB = 'drivers/infiniband/hw/hfi1/ipoib_tx.c';
const NS83820 = 'drivers/net/ethernet/natsemi/ns83820.c';
const FIXED = [IPOIB, NS83820];

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

describe('netmem check --fix on the real base, then a kernel build of the fixed objects', { timeout: 30 * 60_000 }, () => {
  // Under the cache, on the checkout's file system (for the hard-linked copy); the O= directory stays
  // for the next run (prepared tree, ccache base dir).
  const root = join(cacheRoot(), 'check-fix-it');
  const tree = join(root, 'linux');
  const buildDir = join(root, 'build');
  let before1: Record<string, string> = {};

  before(async () => {
    const base = await baseCheckout();
    rmSync(tree, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    execFileSync('cp', ['-al', base, tree]);
    // git replaces files by rename, so checking out the base here never writes through the links.
    git(tree, 'checkout', '-q', '-f', '--detach', 'netmem-base');
    // The files --fix rewrites in place get their own inodes first.
    for (const f of FIXED) {
      const p = join(tree, f);
      const bytes = readFileSync(p);
      rmSync(p);
      writeFileSync(p, bytes);
    }
    before1 = Object.fromEntries(FIXED.map((f) => [f, readFileSync(join(tree, f), 'utf8')]));
  });
  after(() => rmSync(tree, { recursive: true, force: true }));

  let fixedAt = 0;

  it('--fix rewrites exactly the fixable accesses; re-checking finds only the unfixable one', async () => {
    const files = FIXED.map((f) => join(tree, f));
    const before = await netmem(['check', '--kernel', tree, '--format', 'json', ...files], { cwd: tree });
    assert.equal(before.code, 1, before.stderr);
    assert.equal(JSON.parse(before.stdout).length, 3);

    fixedAt = Date.now() - 2000;
    const r = await netmem(['check', '--kernel', tree, '--fix', ...files], { cwd: tree });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /fixed 2 access\(es\) in 2 file\(s\)/);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      `${NS83820}:1148:39: warning: direct access to skb_frag_t field 'page' (a pre-5.4 name; this tree's skb_frag_t has bv_page, bv_len, bv_offset): use skb_frag_page() (in an argument of macro dprintk, at its use site) [frag-field-access]`,
    ]);

    const ipoib = readFileSync(join(tree, IPOIB), 'utf8');
    assert.equal(ipoib.split('\n')[219], '\t\t\t\t      skb_frag_off(frag),');
    assert.equal(ipoib.replace('skb_frag_off(frag),', 'frag->bv_offset,'), before1[IPOIB], 'only that access changed');
    const ns = readFileSync(join(tree, NS83820), 'utf8');
    assert.equal(ns.split('\n')[1148], '\t\t\tskb_frag_off(frag));');
    assert.equal(ns.replace('skb_frag_off(frag));', 'frag->page_offset);'), before1[NS83820], 'only that access changed');

    const clean = await netmem(['check', '--kernel', tree, join(tree, IPOIB)], { cwd: tree });
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.equal(clean.stdout, '');
  });

  it('a second --fix changes nothing more', async () => {
    const now = FIXED.map((f) => readFileSync(join(tree, f), 'utf8'));
    const r = await netmem(['check', '--kernel', tree, '--fix', ...FIXED.map((f) => join(tree, f))], { cwd: tree });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /fixed 0 access\(es\) in 0 file\(s\)/);
    assert.deepEqual(FIXED.map((f) => readFileSync(join(tree, f), 'utf8')), now);
  });

  it('the fixed files compile in a kernel build with our config, which builds both objects', async () => {
    assert.ok(fixedAt > 0, 'the --fix test ran');
    const ctx: BuildContext = { srcDir: tree, buildDir, fragment: DEFAULT_FRAGMENT(), jobs: 2 };
    await configure(ctx);
    const config = parseConfig(await readFile(join(buildDir, '.config'), 'utf8'));
    assert.equal(config.get('CONFIG_INFINIBAND_HFI1'), 'y', 'hfi1 is built in');
    assert.equal(config.get('CONFIG_NS83820'), 'y', 'ns83820 is built in');
    const objects = FIXED.map((f) => f.replace(/\.c$/, '.o'));
    assert.deepEqual(await enabledObjects(ctx, FIXED), objects, 'the config builds both objects');

    const r = await make(ctx, objects, { timeoutMs: 25 * 60_000 });
    assert.ok(r.ok, `make ${objects.join(' ')} failed:\n${r.tail.join('\n')}`);
    assert.deepEqual(r.diagnostics.filter((d) => FIXED.some((f) => d.file.endsWith(f))), [], 'no compiler diagnostics in the fixed files');
    for (const o of objects) {
      const obj = join(buildDir, o);
      assert.ok(existsSync(obj), `${o} was built`);
      assert.ok(statSync(obj).mtimeMs >= fixedAt, `${o} was compiled from the fixed source`);
      // kbuild records the source it compiled in the object's .cmd file.
      const cmd = readFileSync(join(buildDir, o.replace(/([^/]+)$/, '.$1.cmd')), 'utf8');
      assert.ok(cmd.includes(join(tree, o.replace(/\.o$/, '.c'))), `${o} came from the fixed tree`);
    }
  });
});
