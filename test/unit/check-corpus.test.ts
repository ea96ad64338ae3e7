// The checker's corpus: every C file under test/fixtures/check/ states its expected findings in
// `// expect: rule@col, rule@col` comments on the finding's line (1-based columns); a file without
// any expects nothing. Each era directory is a miniature kernel tree; nokernel/ is checked without one.
// `X.fixed.c` beside `X.c` is what --fix must make of X.c.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createChecker, type Checker } from '../../extension/core/check/checker';
import { applyFixes } from '../../extension/core/check/fix';

const root = join(__dirname, '..', 'fixtures', 'check');
const cache = mkdtempSync(join(tmpdir(), 'netmem-check-cache-'));
process.env.XDG_CACHE_HOME = cache;

function cFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...cFiles(p));
    else if (e.name.endsWith('.c')) out.push(p);
  }
  return out.sort();
}

function expected(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    const m = /\/\/ expect: (.*)$/.exec(line);
    if (!m) return;
    for (const item of m[1].split(',')) {
      const [rule, col] = item.trim().split('@');
      out.push(`${i + 1}:${col}:${rule}`);
    }
  });
  return out.sort();
}

const trees: { name: string; kernelDir?: string }[] = [
  { name: 'bio_vec', kernelDir: join(root, 'bio_vec') },
  { name: 'pre-5.4', kernelDir: join(root, 'pre-5.4') },
  { name: '6.9', kernelDir: join(root, '6.9') },
  { name: 'series', kernelDir: join(root, 'series') },
  { name: 'nokernel' },
];

const checkers = new Map<string, Checker>();

before(async () => {
  for (const t of trees) checkers.set(t.name, await createChecker({ kernelDir: t.kernelDir }));
});

after(() => {
  for (const c of checkers.values()) c.dispose();
  rmSync(cache, { recursive: true, force: true });
});

describe('era detection', () => {
  test('each tree is read as its own era', () => {
    assert.equal(checkers.get('bio_vec')!.era.id, 'bio_vec');
    assert.equal(checkers.get('pre-5.4')!.era.id, 'pre-5.4');
    assert.equal(checkers.get('6.9')!.era.id, '6.9+');
    assert.equal(checkers.get('series')!.era.id, 'netmem-series');
    assert.equal(checkers.get('nokernel')!.era.fromTree, false);
    assert.ok(!checkers.get('pre-5.4')!.era.helpers.has('skb_frag_off'), 'pre-5.4 has no skb_frag_off()');
    assert.ok(checkers.get('bio_vec')!.era.helpers.has('__skb_frag_set_page'));
    assert.ok(!checkers.get('nokernel')!.era.helpers.has('__skb_frag_set_page'));
  });
});

for (const t of trees) {
  describe(`corpus: ${t.name}`, () => {
    for (const file of cFiles(join(root, t.name)).filter((f) => !f.endsWith('.fixed.c'))) {
      test(relative(root, file), () => {
        const text = readFileSync(file, 'utf8');
        const { findings } = checkers.get(t.name)!.checkText(file, text);
        const got = findings.map((f) => `${f.range.start.line + 1}:${f.range.start.col + 1}:${f.rule}`).sort();
        assert.deepEqual(got, expected(text), JSON.stringify(findings.map((f) => [f.range.start, f.message]), null, 1));
        for (const f of findings) assert.equal(f.file, file);
      });
    }
  });
}

describe('quick fixes', () => {
  for (const t of trees) {
    for (const file of cFiles(join(root, t.name)).filter((f) => f.endsWith('.fixed.c'))) {
      const src = file.replace(/\.fixed\.c$/, '.c');
      test(`${relative(root, src)} → ${relative(root, file)}, and a second pass changes nothing`, () => {
        const checker = checkers.get(t.name)!;
        const text = readFileSync(src, 'utf8');
        const once = applyFixes(text, checker.checkText(src, text).findings);
        assert.equal(once.text, readFileSync(file, 'utf8'));
        const again = checker.checkText(src, once.text).findings;
        assert.ok(again.every((f) => !f.fix), 'nothing fixable is left');
        assert.equal(applyFixes(once.text, again).text, once.text);
      });
    }
  }

  test('findings name the helper, and only helpers the tree has', () => {
    for (const t of trees) {
      const checker = checkers.get(t.name)!;
      for (const file of cFiles(join(root, t.name))) {
        for (const f of checker.checkText(file, readFileSync(file, 'utf8')).findings) {
          if (f.helper) assert.ok(checker.era.helpers.has(f.helper), `${f.helper} suggested in ${t.name}`);
          for (const e of f.fix ?? []) {
            const called = /^(\w+)\(/.exec(e.newText)?.[1];
            assert.ok(called && checker.era.helpers.has(called), `fix calls ${called} in ${t.name}`);
          }
        }
      }
    }
  });

  test('the helper definitions in include/linux/skbuff.h are not flagged', () => {
    for (const t of trees.filter((x) => x.kernelDir)) {
      const file = join(t.kernelDir!, 'include', 'linux', 'skbuff.h');
      assert.ok(statSync(file).isFile());
      const r = checkers.get(t.name)!.checkText(file, readFileSync(file, 'utf8'));
      assert.deepEqual(r.findings, []);
      assert.match(r.skipped ?? '', /helpers/);
    }
  });
});

describe('messages', () => {
  test('macro findings say use site or definition', () => {
    const c = checkers.get('bio_vec')!;
    const use = join(root, 'bio_vec', 'drivers', 'net', 'shapes', 'macro_use.c');
    const def = join(root, 'bio_vec', 'drivers', 'net', 'shapes', 'macro_def.c');
    const u = c.checkText(use, readFileSync(use, 'utf8')).findings;
    assert.ok(u.length > 0 && u.every((f) => f.viaMacro === 'use' && /use site/.test(f.message)));
    const d = c.checkText(def, readFileSync(def, 'utf8')).findings;
    assert.ok(d.length === 2 && d.every((f) => f.viaMacro === 'definition' && /definition/.test(f.message)));
    const atUse = d.find((f) => f.related);
    assert.ok(atUse, 'the use-site report points at the definition');
    assert.match(atUse.message, /FRAG_LEN \(defined at .*macro_def\.c:5\)/);
  });

  test('other eras\u2019 names are explained', () => {
    const c = checkers.get('bio_vec')!;
    const file = join(root, 'bio_vec', 'drivers', 'net', 'shapes', 'other_era_names.c');
    const msgs = c.checkText(file, readFileSync(file, 'utf8')).findings.map((f) => f.message);
    assert.ok(msgs.some((m) => /'page_offset' \(a pre-5\.4 name; this tree's skb_frag_t has bv_page, bv_len, bv_offset\)/.test(m)));
    assert.ok(msgs.some((m) => /'len' \(a 6\.9\+ name/.test(m)));
  });
});
