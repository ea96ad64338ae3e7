// netmem apply with real git: a new branch, dirty trees refused untouched, conflicts rolled back to
// exactly the state before, and a second apply recognised as already applied.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pristineBase } from '../helpers/base';
import { netmem, ROOT } from '../helpers/cli';

const work = mkdtempSync(join(tmpdir(), 'netmem-apply-'));
const FIXTURES = join(ROOT, 'test', 'fixtures', 'series');
const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** A repository with a base commit and a two-patch series made with git format-patch. */
function fixture(name: string): { repo: string; series: string } {
  const repo = join(work, name);
  mkdirSync(join(repo, 'net'), { recursive: true });
  git(repo, 'init', '-q', '-b', 'base');
  writeFileSync(join(repo, 'net/a.c'), 'int a(void)\n{\n\treturn 1;\n}\n');
  writeFileSync(join(repo, 'net/b.c'), 'int b(void)\n{\n\treturn 2;\n}\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'base');
  git(repo, 'checkout', '-q', '-b', 'make-series');
  writeFileSync(join(repo, 'net/a.c'), 'int a(void)\n{\n\treturn 10;\n}\n');
  git(repo, 'commit', '-q', '-am', 'net: first');
  writeFileSync(join(repo, 'net/b.c'), 'int b(void)\n{\n\treturn 20;\n}\n');
  git(repo, 'commit', '-q', '-am', 'net: second');
  const series = join(work, `${name}-patches`);
  git(repo, 'format-patch', '-q', '--cover-letter', '-o', series, 'base..HEAD');
  git(repo, 'checkout', '-q', 'base');
  git(repo, 'branch', '-q', '-D', 'make-series');
  return { repo, series };
}

/** Everything that must not change: HEAD, branches, index and every file's bytes. */
function snapshot(repo: string) {
  return {
    head: git(repo, 'rev-parse', 'HEAD'),
    symbolic: git(repo, 'symbolic-ref', 'HEAD'),
    branches: git(repo, 'branch', '--format=%(refname) %(objectname)'),
    index: git(repo, 'ls-files', '-s'),
    staged: git(repo, 'diff', '--cached', '--binary'),
    unstaged: git(repo, 'diff', '--binary'),
    status: git(repo, 'status', '--porcelain=v1', '--untracked-files=all'),
    files: ['net/a.c', 'net/b.c', 'notes.txt', 'scratch.bin'].map((f) => {
      try {
        return readFileSync(join(repo, f)).toString('base64');
      } catch {
        return null;
      }
    }),
  };
}

describe('netmem apply', () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  it('applies every patch on a new branch and leaves the original branch alone', async () => {
    const { repo, series } = fixture('ok');
    const r = await netmem(['apply', '--kernel', repo, '--series', series, '--branch', 'netmem-test'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /applied 2\/2 patches on branch netmem-test/);
    assert.equal(git(repo, 'symbolic-ref', '--short', 'HEAD'), 'netmem-test');
    assert.equal(git(repo, 'log', '--format=%s', 'base..HEAD'), 'net: second\nnet: first');
    assert.equal(git(repo, 'rev-list', '--count', 'base'), '1', 'base branch unchanged');
    assert.match(readFileSync(join(repo, 'net/b.c'), 'utf8'), /return 20;/);
  });

  it('a second apply says it is applied already and changes nothing', async () => {
    const repo = join(work, 'ok');
    const before = snapshot(repo);
    const r = await netmem(['apply', '--kernel', repo, '--series', join(work, 'ok-patches'), '--branch', 'other'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /applied already \(on netmem-test\)/);
    assert.deepEqual(snapshot(repo), before);
  });

  it('a dirty tree is refused with its files listed, and every dirty byte is still there', async () => {
    const { repo, series } = fixture('dirty');
    writeFileSync(join(repo, 'net/a.c'), 'int a(void)\n{\n\treturn 99; /* my work */\n}\n');
    writeFileSync(join(repo, 'notes.txt'), 'untracked notes\n');
    git(repo, 'add', 'notes.txt');
    writeFileSync(join(repo, 'notes.txt'), 'untracked notes, edited after staging\n');
    writeFileSync(join(repo, 'scratch.bin'), Buffer.from([0, 1, 13, 10, 255, 13]));
    const before = snapshot(repo);
    const r = await netmem(['apply', '--kernel', repo, '--series', series], { env });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /uncommitted changes/);
    assert.match(r.stdout, /^ {2}net\/a\.c$/m);
    assert.match(r.stdout, /^ {2}notes\.txt$/m);
    assert.match(r.stdout, /^ {2}scratch\.bin$/m);
    assert.deepEqual(snapshot(repo), before);
    assert.equal(git(repo, 'diff', '--cached', '--name-only'), 'notes.txt', 'the staged version is kept too');
  });

  it('a conflicting tree aborts and leaves HEAD, index and working tree exactly as before', async () => {
    const { repo, series } = fixture('conflict');
    writeFileSync(join(repo, 'net/b.c'), 'int b(void)\n{\n\treturn 3;\n}\n');
    git(repo, 'commit', '-q', '-am', 'local change to b');
    const before = snapshot(repo);
    const r = await netmem(['apply', '--kernel', repo, '--series', series], { env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /patch 2\/2 "net: second" does not apply \(conflicts in net\/b\.c\)/);
    assert.deepEqual(snapshot(repo), before);
    assert.equal(git(repo, 'branch', '--list', 'netmem-series'), '', 'the new branch is removed');
    assert.throws(() => git(repo, 'rev-parse', '--verify', '-q', 'REBASE_HEAD'));
  });

  it('a folder without patches and a non-repository are clear errors', async () => {
    const empty = join(work, 'empty');
    mkdirSync(empty);
    const r1 = await netmem(['apply', '--kernel', join(work, 'ok'), '--series', empty], { env });
    assert.equal(r1.code, 2);
    assert.match(r1.stderr, /no patches in/);
    const r2 = await netmem(['apply', '--kernel', empty, '--series', join(work, 'ok-patches')], { env });
    assert.equal(r2.code, 1);
    assert.match(r2.stdout, /is not a git repository/);
  });

  it('status: clean, applied (patch id), upstream, 3-way and conflict, computed without touching the checkout', async () => {
    const { repo, series } = fixture('status');
    const status = async () => {
      const before = snapshot(repo);
      const r = await netmem(['status', '--kernel', repo, '--series', series, '--format', 'json'], { env });
      assert.deepEqual(snapshot(repo), before, 'status changed the checkout');
      return { code: r.code, states: (JSON.parse(r.stdout) as { patches: { state: string; files?: string[]; hunks?: { header?: string }[] }[] }).patches, text: r.stderr };
    };
    let s = await status();
    assert.equal(s.code, 0, s.text);
    assert.deepEqual(s.states.map((p) => p.state), ['clean', 'clean']);
    // patch 1 committed as its own commit under another message: same patch id
    writeFileSync(join(repo, 'net/a.c'), 'int a(void)\n{\n\treturn 10;\n}\n');
    git(repo, 'commit', '-q', '-am', 'picked from the list');
    // patch 2's change is in the tree, folded into a larger commit: upstream
    writeFileSync(join(repo, 'net/b.c'), 'int b(void)\n{\n\treturn 20;\n}\n');
    writeFileSync(join(repo, 'net/c.c'), 'int c;\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'big merge');
    s = await status();
    assert.deepEqual(s.states.map((p) => p.state), ['applied', 'upstream']);
    // patch 2 conflicts with a different local change of the same line, and names the file and hunk
    git(repo, 'reset', '-q', '--hard', 'HEAD~1');
    writeFileSync(join(repo, 'net/b.c'), 'int b(void)\n{\n\treturn 3;\n}\n');
    git(repo, 'commit', '-q', '-am', 'local b');
    const r = await netmem(['status', '--kernel', repo, '--series', series], { env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\[2\/2\] conflicts +net: second\n +in net\/b\.c @@ -1,4 \+1,4 @@/);
    s = await status();
    assert.deepEqual(s.states.map((p) => p.state), ['applied', 'conflict']);
    assert.deepEqual(s.states[1]!.files, ['net/b.c']);
    // a change to a context line of the hunk (not the patched line): only a 3-way merge applies it
    git(repo, 'reset', '-q', '--hard', 'HEAD~1');
    writeFileSync(join(repo, 'net/b.c'), 'long b(void)\n{\n\treturn 2;\n}\n');
    git(repo, 'commit', '-q', '-am', 'b returns long');
    s = await status();
    assert.deepEqual(s.states.map((p) => p.state), ['applied', '3way']);
  });

  it('applies a CRLF mail-client mbox (quoted-printable, encoded author) with the author kept', async () => {
    const repo = join(work, 'crlf');
    mkdirSync(join(repo, 'net'), { recursive: true });
    mkdirSync(join(repo, 'drivers'), { recursive: true });
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'net/a.c'), 'int a(void)\n{\n\treturn 1;\n}\n');
    writeFileSync(join(repo, 'drivers/gone.c'), 'old\n');
    writeFileSync(join(repo, 'net/move.c'), 'line1\nline2\nline3\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'base');
    const r = await netmem(['apply', '--kernel', repo, '--series', join(FIXTURES, 'crlf.mbox')], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(git(repo, 'log', '--format=%an|%s', 'main..netmem-series'), 'Jörg Müller|net: rename move.c, drop gone.c, add new.h\nJörg Müller|net: change a');
    assert.equal(readFileSync(join(repo, 'net/a.c'), 'utf8'), 'int a(void)\n{\n\treturn 10;\n}\n');
    assert.equal(readFileSync(join(repo, 'net/nonl.txt'), 'utf8'), 'no newline');
    assert.match(git(repo, 'log', '-1', '--format=%B', 'netmem-series~1'), /^net: change a\n\nFrom the mailing list: this line starts with From/);
  });

  it('on the real base: status is clean and fast, the bundled series applies from a format-patch mbox, then reads as applied', async () => {
    const { dir } = await pristineBase(join(work, 'base'));
    const g = (...a: string[]) => git(dir, ...a);
    // an mbox of the bundled series, made as a user would: apply the folder, then git format-patch --stdout
    const mbox = join(work, 'netmem.mbox');
    const bundled = join(ROOT, 'patches');
    let r = await netmem(['apply', '--kernel', dir, '--series', bundled, '--branch', 'tmp-series'], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    writeFileSync(mbox, g('format-patch', '--stdout', '--cover-letter', 'netmem-base..tmp-series'));
    g('checkout', '-q', '--detach', 'netmem-base');
    g('branch', '-q', '-D', 'tmp-series');
    const started = Date.now();
    r = await netmem(['status', '--kernel', dir, '--series', mbox, '--format', 'json'], { env });
    const elapsed = Date.now() - started;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { patches: { state: string }[] }).patches.map((p) => p.state), ['clean', 'clean', 'clean']);
    assert.ok(elapsed < 3000, `status took ${elapsed} ms`);
    r = await netmem(['apply', '--kernel', dir, '--series', mbox, '--branch', 'from-mbox'], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /applied 3\/3 patches on branch from-mbox/);
    assert.equal(g('rev-list', '--count', 'netmem-base..from-mbox'), '3');
    assert.equal(g('status', '--porcelain'), '');
    r = await netmem(['status', '--kernel', dir, '--series', bundled], { env });
    assert.equal(r.code, 0);
    assert.equal((r.stdout.match(/ applied /g) ?? []).length, 3, r.stdout);
    r = await netmem(['apply', '--kernel', dir, '--series', mbox], { env });
    assert.match(r.stdout, /applied already \(on from-mbox\)/);
    r = await netmem(['series', '--series', mbox, '--format', 'json'], { env });
    const summary = JSON.parse(r.stdout) as { cover?: { subject: string }; patches: { files: { path: string }[] }[] };
    assert.equal(summary.cover?.subject, '*** SUBJECT HERE ***', 'the format-patch cover letter is read as the cover');
    assert.deepEqual(summary.patches[1]!.files.map((f) => f.path), ['include/net/netmem.h']);
  });
});
