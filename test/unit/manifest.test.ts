import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compareFiles, describeDrift, loadManifest, parseManifest, sha256, ManifestError } from '../../extension/core/kernel/manifest';
import { ROOT } from '../helpers/cli';

const shipped = () => JSON.parse(readFileSync(join(ROOT, 'kernel-ref', 'base.json'), 'utf8'));

describe('kernel-ref/base.json', () => {
  it('the shipped manifest is valid and pins the 6.1 base', () => {
    const m = loadManifest();
    assert.equal(m.package, 'linux-source-6.1');
    assert.match(m.kernelVersion, /^6\.1\.\d+$/);
    assert.match(m.commit.id, /^[0-9a-f]{40}$/);
    assert.ok(Object.keys(m.files).includes('include/linux/skbuff.h'));
    assert.equal(m.files['include/net/netmem.h'], null, 'netmem.h is new in the series');
  });

  const broken: Array<[string, (d: any) => void, RegExp]> = [
    ['missing package', (d) => delete d.package, /"package"/],
    ['bad kernel version', (d) => (d.kernelVersion = 'six'), /kernelVersion/],
    ['topDir with a slash', (d) => (d.topDir = 'a/b'), /topDir/],
    ['short commit id', (d) => (d.commit.id = 'abc'), /commit\.id/],
    ['bad date', (d) => (d.commit.date = 'yesterday'), /commit\.date/],
    ['absolute file path', (d) => (d.files['/etc/passwd'] = null), /relative/],
    ['escaping file path', (d) => (d.files['net/../../x'] = null), /relative/],
    ['bad checksum', (d) => (d.files['net/core/skbuff.c'] = 'deadbeef'), /not a sha256/],
  ];
  for (const [what, mutate, message] of broken) {
    it(`rejects a manifest with ${what}`, () => {
      const data = shipped();
      mutate(data);
      assert.throws(() => parseManifest(data, 'm.json'), (e: Error) => e instanceof ManifestError && message.test(e.message) && e.message.startsWith('m.json: '));
    });
  }

  it('rejects JSON that is not an object', () => {
    for (const data of [[], null, 'base', 3]) assert.throws(() => parseManifest(data), /not a JSON object/);
  });

  it('reports a missing manifest file clearly', () => {
    assert.throws(() => loadManifest('/nonexistent/base.json'), /cannot read \/nonexistent\/base\.json/);
  });
});

describe('drift', () => {
  const m = parseManifest({ ...shipped(), files: { 'a.c': sha256('one\n'), 'b.h': sha256('two\n'), 'new.h': null } });

  it('no drift when contents match and new files are absent', () => {
    const contents = new Map([['a.c', Buffer.from('one\n')], ['b.h', Buffer.from('two\n')], ['new.h', undefined]]);
    assert.deepEqual(compareFiles(m, contents), []);
  });

  it('names each changed, missing and unexpected file', () => {
    const contents = new Map<string, Buffer | undefined>([['a.c', Buffer.from('ONE\n')], ['new.h', Buffer.from('x')]]);
    const drift = compareFiles(m, contents);
    assert.deepEqual(drift.map((d) => d.path), ['a.c', 'b.h', 'new.h']);
    assert.equal(drift[0]!.actual, sha256('ONE\n'));
    assert.equal(drift[1]!.actual, null);
    assert.match(describeDrift(drift[0]!), /^a\.c: sha256 \w+… differs/);
    assert.match(describeDrift(drift[1]!), /^b\.h: missing/);
    assert.match(describeDrift(drift[2]!), /^new\.h: should not exist/);
  });

  it('hashes bytes, not decoded text', () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
    assert.notEqual(sha256(bytes), sha256(bytes.toString('utf8')));
  });
});
