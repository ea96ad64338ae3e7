import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { netmem } from '../helpers/cli';

describe('netmem CLI conventions', () => {
  it('lists its commands and exits 2 without one', async () => {
    const r = await netmem([]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /^Usage: netmem <command>/);
    assert.match(r.stdout, /^\s+base\s+/m);
    assert.match(r.stdout, /^\s+doctor\s+/m);
  });

  for (const sub of ['base', 'doctor']) {
    it(`${sub} --help prints its usage and exits 0`, async () => {
      const r = await netmem([sub, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: netmem ${sub}\\b`));
      assert.equal(r.stderr, '');
    });
  }

  it('an unknown command is a one-line error with exit 2', async () => {
    const r = await netmem(['frobnicate']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
  });

  it('an unknown flag is a one-line error with exit 2', async () => {
    const r = await netmem(['base', '--frob']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /--frob/);
  });

  it('a flag missing its value is a usage error', async () => {
    const r = await netmem(['base', '--dir']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--dir/);
  });

  it('a bad --format value is a usage error', async () => {
    const r = await netmem(['doctor', '--format', 'yaml']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--format must be one of text, json/);
  });

  it('stray positional arguments are refused', async () => {
    const r = await netmem(['base', 'extra']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /extra/);
  });

  it('doctor --format json reports the bundled C grammar loading', async () => {
    const r = await netmem(['doctor', '--format', 'json']);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> };
    const grammar = report.checks.find((c) => c.name === 'grammar');
    assert.ok(grammar, 'a grammar check');
    assert.equal(grammar.ok, true, grammar.detail);
    assert.equal(r.code, report.ok ? 0 : 1);
  });
});
