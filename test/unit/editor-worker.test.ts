// The editor's check worker: content changes applied as the editor reports them, incremental checks
// of a held document in a real worker thread (an edit in a function body parsed on that function
// alone, settled later on the whole tree), resync after the worker lost a document, scans.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createChecker, leavesOpen, shiftSpan } from '../../extension/core/check/checker';
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

test('shiftSpan moves a span after an edit, stretches one the edit overlaps, keeps one before it', () => {
  const ins = { start: 10, oldEnd: 10, newEnd: 13 };
  assert.deepEqual(shiftSpan({ start: 20, end: 30 }, ins), { start: 23, end: 33 });
  assert.deepEqual(shiftSpan({ start: 10, end: 30 }, ins), { start: 13, end: 33 });
  assert.deepEqual(shiftSpan({ start: 0, end: 5 }, ins), { start: 0, end: 5 });
  assert.deepEqual(shiftSpan({ start: 5, end: 30 }, ins), { start: 5, end: 33 });
  // A deletion of [12, 18) across the end of [5, 15): the span ends where the deletion did.
  assert.deepEqual(shiftSpan({ start: 5, end: 15 }, { start: 12, oldEnd: 18, newEnd: 12 }), { start: 5, end: 12 });
  assert.deepEqual(shiftSpan({ start: 5, end: 40 }, { start: 12, oldEnd: 18, newEnd: 12 }), { start: 5, end: 34 });
});

test('leavesOpen: a block comment or #if/#ifdef left open in a span', () => {
  const open = (t: string) => leavesOpen(`x;\n${t}\ny;`, 3, 3 + t.length);
  assert.equal(open('int f(void)\n{\n\t/* ok */ return 0;\n}'), false);
  assert.equal(open('int f(void)\n{\n\t/* open return 0;\n}'), true);
  assert.equal(open('int f(void)\n{\n\t/* a */ /* b\n}'), true);
  assert.equal(open('int f(void)\n{\n#ifdef X\n\tx();\n#endif\n}'), false);
  assert.equal(open('int f(void)\n{\n #if X\n\tx();\n}'), true);
  assert.equal(open('int f(void)\n{\n\tx();\n#endif\n}'), true);
  // Only the span counts: a comment closed after it is still open in it.
  assert.equal(leavesOpen('a /* b */', 0, 5), true);
});

const TWO = `#include <linux/skbuff.h>
static int g(struct sk_buff *skb)
{
	return skb->len;
}

static int f(struct sk_buff *skb)
{
	skb_frag_t *frag = &skb_shinfo(skb)->frags[0];
	int n = 0;

	return n;
}

static int h(skb_frag_t *frag)
{
	return frag->bv_offset;
}
`;

test('typing in a function body: each re-check equals a fresh check, also when a typed brace or comment reshapes the file', async () => {
  const checker = await createChecker({ noIndex: true });
  try {
    const path = join(dir, 'typed.c');
    const show = (fs: { rule: string; range: { start: { line: number; col: number } } }[]) => fs.map((f) => `${f.rule}@${f.range.start.line}:${f.range.start.col}`);
    let text = TWO;
    checker.checkText(path, text, { retain: true });
    const at = TWO.indexOf('\treturn n;');
    const step = (next: string) => {
      text = next;
      const r = checker.checkText(path, text, { retain: true });
      assert.deepEqual(show(r.findings), show(checker.checkText(path, text).findings), JSON.stringify(text.slice(at - 5, at + 40)));
      return r;
    };
    // One character at a time: only the function is parsed, the retained tree waits for settle().
    const typed = '\tn += frag->bv_len;\n';
    for (let i = 1; i <= typed.length; i++) step(TWO.slice(0, at) + typed.slice(0, i) + TWO.slice(at));
    assert.equal(show(checker.checkText(path, text, { retain: true }).findings).length, 2);
    const settled = checker.settle(path);
    assert.ok(settled, 'edits in a body were checked on the function alone, so there is a reparse to settle');
    assert.equal(settled.differs, false);
    assert.equal(settled.incremental, true, 'the reparse re-checks only the edited function');
    assert.deepEqual(show(settled.findings), show(checker.checkText(path, text).findings));
    assert.equal(checker.settle(path), undefined, 'settled once');
    // A typed `}` ends f early and a typed `/*` comments out the rest: whole-file reparses, still
    // equal to fresh checks, with nothing left to settle.
    const base = text;
    step(base.slice(0, at) + '}' + base.slice(at));
    assert.equal(checker.settle(path), undefined);
    step(base);
    checker.settle(path);
    step(base.slice(0, at) + '/*' + base.slice(at));
    assert.equal(checker.settle(path), undefined);
    step(base);
    // Edits in two functions before settling: both are re-checked on the whole tree.
    step(text.replace('return skb->len;', 'return skb->len + frag_count;'));
    step(text.replace('return frag->bv_offset;', 'return frag->bv_offset + frag->bv_len;'));
    const both = checker.settle(path);
    assert.ok(both);
    assert.equal(both.differs, false);
    assert.equal(both.incremental, true);
    assert.deepEqual(show(both.findings), show(checker.checkText(path, text).findings));
  } finally {
    checker.dispose();
  }
});
