// `netmem base` on the real Debian tarball: reproducible commit, manifest checksums, reuse, and bad
// input (missing parent, unwritable place, damaged tarball, foreign directory, cancel) that leaves
// nothing behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { netmem } from '../helpers/cli';
import { loadManifest } from '../../extension/core/kernel/manifest';

const manifest = loadManifest();
const work = mkdtempSync(join(process.env.NETMEM_TEST_TMP ?? tmpdir(), 'netmem-base-it-'));
const checkout = join(work, 'linux');
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
/** Leftovers of a run in `dir`: anything but the names listed. */
const leftovers = (dir: string, keep: string[] = []) => readdirSync(dir).filter((n) => !keep.includes(n));

function pgrep(pattern: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

describe('netmem base on the real tarball', { timeout: 15 * 60_000 }, () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  it('makes a checkout whose HEAD is the pinned, reproducible base commit', async () => {
    // Installs Debian's package first when it is missing (as root), as `npm start` does.
    const r = await netmem(['base', '--dir', checkout, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.equal(result.dir, checkout);
    assert.equal(result.reused, false);
    assert.deepEqual(result.drift, []);
    assert.deepEqual(result.notices, [], 'the installed package is the one the manifest pins');
    // Independent of the code under test: ask git and hash the files on disk.
    assert.equal(git(checkout, 'rev-parse', 'HEAD'), manifest.commit.id);
    assert.equal(git(checkout, 'rev-parse', `${manifest.tag}^{commit}`), manifest.commit.id);
    assert.equal(git(checkout, 'status', '--porcelain', '--untracked-files=all'), '');
    for (const [path, expected] of Object.entries(manifest.files)) {
      const file = join(checkout, path);
      if (expected === null) assert.equal(existsSync(file), false, `${path} is not in the base`);
      else assert.equal(sha(file), expected, path);
    }
    const makefile = readFileSync(join(checkout, 'Makefile'), 'utf8');
    const [v, p, s] = manifest.kernelVersion.split('.');
    assert.match(makefile, new RegExp(`^VERSION = ${v}\\nPATCHLEVEL = ${p}\\nSUBLEVEL = ${s}\\n`, 'm'));
    assert.deepEqual(leftovers(work), ['linux'], 'no partial directory left');
  });

  it("git sees new files in the checkout (Debian's ignore-everything block is gone)", () => {
    const added = join(checkout, 'include/net/netmem.h');
    writeFileSync(added, '/* new */\n');
    try {
      assert.equal(git(checkout, 'status', '--porcelain'), '?? include/net/netmem.h');
    } finally {
      rmSync(added);
    }
  });

  it('a second run reuses the checkout and prints the same path', async () => {
    const t0 = Date.now();
    const r = await netmem(['base', '--dir', checkout]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), checkout);
    assert.match(r.stderr, /reusing/);
    assert.ok(Date.now() - t0 < 10_000, 'reuse does not re-extract');
  });

  it('reports drift file by file and exits 1 when the base differs from the manifest', async () => {
    // A copy (sharing objects, no work tree) whose tagged base has a changed skbuff.h and the series' new header.
    const copy = join(work, 'drifted');
    git(work, 'clone', '-q', '--shared', '--no-checkout', checkout, copy);
    git(copy, 'read-tree', manifest.tag);
    const blob = (text: string) => execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: copy, input: text, encoding: 'utf8' }).trim();
    const skbuff = readFileSync(join(checkout, 'include/linux/skbuff.h'), 'utf8') + '/* changed */\n';
    git(copy, 'update-index', '--add', '--cacheinfo', `100644,${blob(skbuff)},include/linux/skbuff.h`);
    git(copy, 'update-index', '--add', '--cacheinfo', `100644,${blob('/* new */\n')},include/net/netmem.h`);
    const tree = git(copy, 'write-tree');
    const commit = git(copy, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit-tree', tree, '-p', manifest.tag, '-m', 'drift');
    git(copy, 'tag', '-f', manifest.tag, commit);
    const r = await netmem(['base', '--dir', copy]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout.trim(), copy);
    const drift = r.stderr.split('\n').filter((l) => l.includes('drift:'));
    assert.equal(drift.length, 2, r.stderr);
    assert.match(r.stderr, /drift: include\/linux\/skbuff\.h: sha256 \w+… differs/);
    assert.match(r.stderr, /drift: include\/net\/netmem\.h: should not exist/);
    assert.match(r.stderr, /not the manifest's/);
    rmSync(copy, { recursive: true, force: true });
  });

  it('refuses a directory that holds something else, and leaves it alone', async () => {
    const foreign = join(work, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'my work\n');
    const r = await netmem(['base', '--dir', foreign]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not a netmem base checkout/);
    assert.deepEqual(readdirSync(foreign), ['notes.txt']);
    assert.equal(readFileSync(join(foreign, 'notes.txt'), 'utf8'), 'my work\n');
    rmSync(foreign, { recursive: true });
  });

  it('a missing parent directory is a clear error and creates nothing', async () => {
    const r = await netmem(['base', '--dir', '/nonexistent/readonly']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim(), 'netmem base: /nonexistent does not exist (the parent directory of --dir must exist)');
    assert.equal(existsSync('/nonexistent'), false);
  });

  it('an unwritable place is a clear error', async () => {
    const r = await netmem(['base', '--dir', '/proc/netmem-base']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot write in \/proc/);
  });

  const damaged: Array<[string, (file: string) => void, RegExp]> = [
    [
      'a truncated tarball',
      (file) => {
        const fd = openSync(manifest.tarball, 'r');
        const head = Buffer.alloc(8 * 1024 * 1024);
        readSync(fd, head, 0, head.length, 0);
        closeSync(fd);
        writeFileSync(file, head);
      },
      /cannot extract .*damaged or not a tar archive/,
    ],
    ['random bytes', (file) => writeFileSync(file, createHash('sha512').update('x').digest()), /cannot extract .*damaged or not a tar archive/],
    [
      'a tarball without a kernel tree',
      (file) => {
        const src = join(work, 'src', manifest.topDir);
        mkdirSync(src, { recursive: true });
        writeFileSync(join(src, 'README'), 'not a kernel\n');
        execFileSync('tar', ['-cJf', file, '-C', join(work, 'src'), manifest.topDir]);
        rmSync(join(work, 'src'), { recursive: true });
      },
      /does not hold a kernel tree/,
    ],
  ];
  for (const [what, make, message] of damaged) {
    it(`${what} is a clear error and leaves no half-made checkout`, async () => {
      const parent = join(work, 'damaged');
      mkdirSync(parent);
      const tarball = join(work, 'bad.tar.xz');
      make(tarball);
      const r = await netmem(['base', '--dir', join(parent, 'linux'), '--tarball', tarball]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.deepEqual(leftovers(parent), []);
      rmSync(parent, { recursive: true });
      rmSync(tarball);
    });
  }

  it('a missing --tarball is named', async () => {
    const r = await netmem(['base', '--dir', join(work, 'x'), '--tarball', join(work, 'none.tar.xz')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /tarball not found: .*none\.tar\.xz/);
  });

  it('Ctrl-C during extraction stops tar and xz and leaves nothing behind', async () => {
    const parent = join(work, 'interrupted');
    mkdirSync(parent);
    let pid = 0;
    const pending = netmem(['base', '--dir', join(parent, 'linux')], { onSpawn: (p) => (pid = p) });
    // Wait until extraction has started, then interrupt as a terminal would.
    const end = Date.now() + 20_000;
    while (!readdirSync(parent).some((n) => n.includes('.partial-')) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(pid, 'SIGINT');
    const r = await pending;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /cancelled/);
    assert.deepEqual(leftovers(parent), []);
    assert.deepEqual(pgrep(parent), [], 'no process still works on the directory');
    rmSync(parent, { recursive: true });
  });
});
