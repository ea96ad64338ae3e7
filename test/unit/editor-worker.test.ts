// The editor's check worker: content changes applied as the editor reports them, incremental checks
// of a held document in a real worker thread, resync after the worker lost a document, scans.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EditorCheckWorker } from '../../extension/core/check/editorClient';
import { applyContentChanges } from '../../extension/core/check/editorWorker';
import { CancelledError } from '../../extension/core/util/process';

const SRC = `#include <linux/skbuff.h>
static int f(struct sk_buff *skb)
{
	skb_frag_t *frag = &skb_shinfo(skb)->frags[0];
	return frag->bv_len;
}
`;

test('applyContentChanges applies changes in order, each against the text the previous left', () => {
  assert.equal(applyContentChanges('abcdef', [{ offset: 1, length: 2, text: 'XYZ' }]), 'aXYZdef');
  // What a two-cursor typing event looks like: the later offset first, then the earlier one.
  assert.equal(
    applyContentChanges('ab\ncd\n', [
      { offset: 4, length: 0, text: '!' },
      { offset: 1, length: 0, text: '!' },
    ]),
    'a!b\nc!d\n',
  );
  assert.equal(applyContentChanges('abc', [{ offset: 0, length: 3, text: '' }]), '');
  assert.equal(applyContentChanges('abc', []), 'abc');
  assert.throws(() => applyContentChanges('abc', [{ offset: 2, length: 2, text: '' }]), RangeError);
});

let dir: string;
let worker: EditorCheckWorker;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'netmem-editor-'));
  worker = new EditorCheckWorker();
});
after(() => {
  worker.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('a held document is checked in the worker, and again after each change', async () => {
  const path = join(dir, 'a.c');
  worker.open(path, 1, SRC);
  const first = await worker.check(path);
  assert.equal(first.type, 'checked');
  assert.ok(first.type === 'checked');
  assert.equal(first.version, 1);
  assert.deepEqual(
    first.findings.map((f) => [f.rule, f.range.start.line, f.range.start.col, f.fix?.[0]?.newText]),
    [['frag-field-access', 4, 8, 'skb_frag_size(frag)']],
  );
  // Replace the access by the helper: the finding is gone.
  const at = SRC.indexOf('frag->bv_len');
  worker.change(path, 2, SRC.length + 7, [{ offset: at, length: 'frag->bv_len'.length, text: 'skb_frag_size(frag)' }]);
  const second = await worker.check(path);
  assert.ok(second.type === 'checked');
  assert.equal(second.version, 2);
  assert.deepEqual(second.findings, []);
  assert.equal(second.incremental, true);
  // Type a second access into the function body: found, at the right place.
  const body = SRC.replace('frag->bv_len', 'skb_frag_size(frag)').indexOf('\treturn');
  worker.change(path, 3, SRC.length + 7 + '\tfrag->bv_offset = 0;\n'.length, [{ offset: body, length: 0, text: '\tfrag->bv_offset = 0;\n' }]);
  const third = await worker.check(path);
  assert.ok(third.type === 'checked');
  assert.deepEqual(
    third.findings.map((f) => [f.range.start.line, f.range.start.col, f.helper]),
    [[4, 1, 'skb_frag_off_set']],
  );
});

test('a change that does not fit the held text makes the worker ask for the document again', async () => {
  const path = join(dir, 'b.c');
  worker.open(path, 1, 'int x;\n');
  worker.change(path, 2, 6, [{ offset: 100, length: 1, text: '' }]);
  assert.equal((await worker.check(path)).type, 'unknown');
  // A change that applies but leaves a text of another length than the editor's: out of step too.
  worker.open(path, 4, 'int x;\n');
  worker.change(path, 5, 99, [{ offset: 0, length: 0, text: 'x' }]);
  assert.equal((await worker.check(path)).type, 'unknown');
  assert.equal((await worker.check(join(dir, 'never-opened.c'))).type, 'unknown');
  worker.open(path, 6, SRC);
  const again = await worker.check(path);
  assert.ok(again.type === 'checked');
  assert.equal(again.findings.length, 1);
  worker.close(path);
  assert.equal((await worker.check(path)).type, 'unknown');
});

test('a scan in the worker finds the accesses of a folder; an aborted scan is cancelled', async () => {
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'sub'), { recursive: true });
  writeFileSync(join(tree, 'one.c'), SRC);
  writeFileSync(join(tree, 'sub', 'two.c'), SRC.replace('return frag->bv_len;', 'return frag->bv_len + frag->bv_offset;'));
  writeFileSync(join(tree, 'clean.c'), 'int y;\n');
  let progressed = 0;
  const { result } = await worker.scan([tree], undefined, { onProgress: () => progressed++ });
  assert.equal(result.files, 3);
  assert.deepEqual(
    result.findings.map((f) => `${f.file.slice(tree.length + 1)}:${f.range.start.line}:${f.helper}`),
    ['one.c:4:skb_frag_size', 'sub/two.c:4:skb_frag_size', 'sub/two.c:4:skb_frag_off'],
  );
  assert.ok(progressed > 0);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(worker.scan([tree], undefined, { signal: ac.signal }), CancelledError);
});
