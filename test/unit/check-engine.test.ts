// The checker's engine: incremental re-checks, broken input, tree scans (prefilter, workers, symlink
// loops), fixes and output formats. Uses the bio_vec fixture tree as its kernel.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createChecker, diffEdit, type Checker } from '../../extension/core/check/checker';
import { applyEdits } from '../../extension/core/check/fix';
import { formatGcc, formatSarif } from '../../extension/core/check/format';
import { Prefilter } from '../../extension/core/check/prefilter';
import { listFiles, scanTree, type ScanProgress } from '../../extension/core/check/scan';

const fixtureTree = join(__dirname, '..', 'fixtures', 'check', 'bio_vec');
const work = mkdtempSync(join(tmpdir(), 'netmem-check-engine-'));
process.env.XDG_CACHE_HOME = join(work, 'cache');
const tree = join(work, 'tree');
cpSync(fixtureTree, tree, { recursive: true });

let checker: Checker;
before(async () => {
  checker = await createChecker({ kernelDir: tree });
});
after(() => {
  checker.dispose();
  rmSync(work, { recursive: true, force: true });
});

const FN = (body: string) => `#include <linux/skbuff.h>\n\nunsigned int f(skb_frag_t *frag, int n)\n{\n${body}\n}\n\nint g(void)\n{\n\treturn 0;\n}\n`;

describe('incremental re-checks', () => {
  test('diffEdit finds the changed span', () => {
    assert.deepEqual(diffEdit('abcdef', 'abXYef'), { start: 2, oldEnd: 4, newEnd: 4 });
    assert.equal(diffEdit('same', 'same'), null);
  });

  test('edits inside a function re-check only it and agree with a full check', () => {
    const path = join(tree, 'drivers', 'inc.c');
    let text = FN('\treturn skb_frag_size(frag);');
    assert.deepEqual(checker.checkText(path, text, { retain: true }).findings, []);
    // Type a frag access, one keystroke at a time.
    const insert = '\tn += frag->bv_len;\n';
    const at = text.indexOf('\treturn');
    for (let i = 1; i <= insert.length; i++) {
      const next = text.slice(0, at) + insert.slice(0, i) + text.slice(at);
      const r = checker.checkText(path, next, { retain: true });
      assert.deepEqual(r.findings, checker.checkText(`${path}.full`, next).findings.map((f) => ({ ...f, file: path })));
      if (i === insert.length) text = next;
    }
    const r = checker.checkText(path, text, { retain: true });
    assert.equal(r.findings.length, 1);
    // An edit above the finding (in another function) shifts it and keeps it.
    const shifted = text.replace('int g(void)', 'int g(void) /* x */');
    const s = checker.checkText(path, `/* top */\n${shifted}`, { retain: true });
    assert.equal(s.findings.length, 1);
    assert.equal(s.findings[0].range.start.line, r.findings[0].range.start.line + 1);
    // An edit in the function's body is incremental; one outside function bodies is not.
    const inBody = checker.checkText(path, `/* top */\n${shifted}`.replace('n += frag', 'n  += frag'), { retain: true });
    assert.equal(inBody.incremental, true);
    assert.equal(inBody.findings.length, 1);
    const outside = checker.checkText(path, `typedef skb_frag_t alias_t;\n/* top */\n${shifted}`, { retain: true });
    assert.equal(outside.incremental, false);
    checker.close(path);
  });
});

describe('broken input', () => {
  test('unbalanced braces and stray tokens: findings where the code is intact, no crash', () => {
    const text = '#include <linux/skbuff.h>\nvoid f(skb_frag_t *frag)\n{\n\tif (x {\n\t\tfrag->bv_len = 0;\n\t}}}}\n)))\nvoid g(skb_frag_t *h) { h->bv_offset = 1; }\n{{{\n';
    const r = checker.checkText(join(tree, 'drivers', 'broken.c'), text);
    assert.equal(r.skipped, undefined);
    assert.ok(r.findings.some((f) => f.range.start.line === 7), JSON.stringify(r.findings));
  });

  test('non-UTF-8 bytes are read as Latin-1 and checked', () => {
    const file = join(tree, 'drivers', 'latin1.c');
    const bytes = Buffer.concat([
      Buffer.from('/* caf'),
      Buffer.from([0xe9, 0xff, 0xfe]),
      Buffer.from(' */\n#include <linux/skbuff.h>\nint f(skb_frag_t *frag) { return frag->bv_len; }\n'),
    ]);
    writeFileSync(file, bytes);
    const r = checker.checkFile(file);
    assert.equal(r.findings.length, 1);
    assert.deepEqual(r.findings[0].range.start, { line: 2, col: 33 });
  });

  test('a 50 MB file is skipped with a reason, quickly', () => {
    const file = join(tree, 'drivers', 'huge.c');
    const line = 'int f(skb_frag_t *frag) { return frag->bv_len; } /* padding padding padding padding */\n';
    writeFileSync(file, line.repeat(Math.ceil((50 * 1024 * 1024) / line.length)));
    const t0 = Date.now();
    const r = checker.checkFile(file);
    assert.match(r.skipped ?? '', /too large/);
    assert.ok(Date.now() - t0 < 5000);
    rmSync(file);
  });

  test('binary garbage neither crashes nor hangs', () => {
    const junk = Buffer.alloc(200_000);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) % 251;
    const file = join(tree, 'drivers', 'junk.c');
    writeFileSync(file, junk);
    const r = checker.checkFile(file);
    assert.ok(Array.isArray(r.findings));
    rmSync(file);
  });
});

describe('tree scans', () => {
  test('a symlink loop in a scanned directory is skipped, not followed', async () => {
    const dir = join(tree, 'drivers', 'loopy');
    mkdirSync(dir, { recursive: true });
    symlinkSync('..', join(dir, 'up'));
    symlinkSync('b.c', join(dir, 'a.c'));
    symlinkSync('a.c', join(dir, 'b.c'));
    writeFileSync(join(dir, 'real.c'), '#include <linux/skbuff.h>\nint f(skb_frag_t *frag) { return frag->bv_len; }\n');
    const listed = listFiles([dir]);
    assert.deepEqual(listed.files, [join(dir, 'real.c')]);
    assert.deepEqual(listed.skipped.map((s) => s.file).sort(), [join(dir, 'a.c'), join(dir, 'b.c'), join(dir, 'up')]);
    const r = await scanTree(checker, [dir]);
    assert.equal(r.findings.length, 1);
    assert.ok(r.skipped.some((s) => /symlink to a directory/.test(s.reason)));
    assert.ok(r.skipped.some((s) => /looping symlink/.test(s.reason)));
    rmSync(dir, { recursive: true });
  });

  test('workers and the prefilter find what a full in-thread check finds', async () => {
    // Enough files to use the worker threads.
    const many = join(tree, 'drivers', 'many');
    mkdirSync(many, { recursive: true });
    for (let i = 0; i < 80; i++) writeFileSync(join(many, `n${i}.c`), `int v${i}(struct sk_buff *skb) { return skb->len; }\n`);
    // A looping symlink deep in the tree: listed by a worker, reported the same way.
    symlinkSync('loop.c', join(many, 'loop.c'));
    const progress: number[] = [];
    let last: ScanProgress | undefined;
    const viaWorkers = await scanTree(checker, [tree], { workers: 2, onProgress: (p) => { progress.push(p.done); last = p; } });
    const parsingWorkers = await scanTree(checker, [tree], { workers: 2, noPrefilter: true });
    const full = await scanTree(checker, [tree], { workers: 0, noPrefilter: true });
    const key = (fs: typeof full.findings) => fs.map((f) => `${f.file}:${f.range.start.line}:${f.range.start.col}:${f.rule}`);
    assert.ok(viaWorkers.findings.length > 40);
    assert.deepEqual(key(viaWorkers.findings), key(full.findings));
    assert.deepEqual(key(parsingWorkers.findings), key(full.findings));
    assert.deepEqual(viaWorkers.skipped, full.skipped);
    assert.ok(full.skipped.some((s) => s.file === join(many, 'loop.c') && /looping symlink/.test(s.reason)));
    assert.equal(viaWorkers.files, full.files);
    assert.equal(progress.at(-1), full.files, 'progress reaches every file');
    assert.equal(last?.listing, false, 'the walk is over at the end');
    assert.equal(last?.files, full.files);
    assert.ok(viaWorkers.candidates < full.candidates, 'the prefilter skipped files');
    rmSync(many, { recursive: true });
  });

  test('cancellation stops the scan', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(scanTree(checker, [tree], { signal: ac.signal }), /cancelled/);
  });

  test('the prefilter keeps files that reach a frag through a local header', () => {
    const pf = new Prefilter(checker.spec);
    const c = 'int f(struct zz_ring *r) { return r->zzslot->bv_len; }';
    assert.equal(pf.isCandidate(c, ['struct zz_ring { skb_frag_t *zzslot; };']), true);
    assert.equal(pf.isCandidate(c, []), false);
    // Members of frag type in any header of the tree are in the index's vocabulary.
    assert.equal(pf.isCandidate('int f(struct my_ring *r) { return r->cur->bv_len; }', []), true);
    assert.equal(pf.mayMatch(Buffer.from('int x;')), false);
  });
});

describe('fixes and formats', () => {
  test('overlapping edits: the first wins', () => {
    const out = applyEdits('abcdef', [
      { range: { start: { line: 0, col: 1 }, end: { line: 0, col: 3 } }, newText: 'X' },
      { range: { start: { line: 0, col: 2 }, end: { line: 0, col: 4 } }, newText: 'Y' },
    ]);
    assert.equal(out.text, 'aXdef');
    assert.equal(out.skipped, 1);
  });

  test('gcc lines are 1-based with the rule; SARIF is 2.1.0 with rules and fixes', () => {
    const file = join(tree, 'drivers', 'net', 'shapes', 'ptr_arrow.c');
    const fs = checker.checkFile(file).findings;
    const show = (p: string) => p.slice(tree.length + 1);
    assert.deepEqual(formatGcc(fs, show), [
      "drivers/net/shapes/ptr_arrow.c:8:9: warning: direct access to skb_frag_t field 'bv_page': use skb_frag_page() [frag-field-access]",
    ]);
    const sarif = JSON.parse(formatSarif(fs, show, '0.1.0', tree));
    assert.equal(sarif.version, '2.1.0');
    const run = sarif.runs[0];
    assert.deepEqual(
      run.tool.driver.rules.map((r: { id: string }) => r.id),
      ['frag-field-access', 'frag-as-bio-vec', 'frag-macro-field-access'],
    );
    // helpUri must be an absolute URI and the project has no public one: the docs path goes in help.
    for (const r of run.tool.driver.rules) {
      assert.equal(r.helpUri, undefined);
      assert.match(r.help.text, new RegExp(`docs/rules/${r.id}\\.md`));
      assert.ok(existsSync(join(__dirname, '..', '..', 'docs', 'rules', `${r.id}.md`)), `docs/rules/${r.id}.md exists`);
    }
    assert.equal(run.results[0].ruleId, 'frag-field-access');
    assert.deepEqual(run.results[0].locations[0].physicalLocation.region, { startLine: 8, startColumn: 9, endLine: 8, endColumn: 22 });
    assert.equal(run.results[0].locations[0].physicalLocation.artifactLocation.uri, 'drivers/net/shapes/ptr_arrow.c');
    assert.equal(run.results[0].fixes[0].artifactChanges[0].replacements[0].insertedContent.text, 'skb_frag_page(frag)');
    assert.ok(readFileSync(file, 'utf8').includes('frag->bv_page'));
  });
});
