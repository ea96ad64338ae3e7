// netmem apply with real git: a new branch, dirty trees refused untouched, conflicts rolled back to
// exactly the state before, and a second apply recognised as already applied.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { netmem } from '../helpers/cli';

const work = mkdtempSync(join(tmpdir(), 'netmem-apply-'));
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
    status: git(repo, 'status', '--porcelain=v1', '--untracked-files=all'),
    files: ['net/a.c', 'net/b.c', 'notes.txt'].map((f) => {
      try {
        return readFileSync(join(repo, f), 'utf8');
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
    const before = snapshot(repo);
    const r = await netmem(['apply', '--kernel', repo, '--series', series], { env });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /uncommitted changes/);
    assert.match(r.stdout, /^ {2}net\/a\.c$/m);
    assert.match(r.stdout, /^ {2}notes\.txt$/m);
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
});
