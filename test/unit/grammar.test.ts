// The C grammar loads from the bundled location (dist/, as shipped in the .vsix) and parses C.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { C_GRAMMAR_WASM, createCParser, RUNTIME_WASM } from '../../extension/core/check/parser';
import { ROOT } from '../helpers/cli';

const DIST = join(ROOT, 'dist');

describe('tree-sitter C grammar from dist/', () => {
  it('the build put both wasm files next to the bundle', () => {
    for (const f of [RUNTIME_WASM, C_GRAMMAR_WASM, 'extension.js', 'cli.js']) assert.ok(existsSync(join(DIST, f)), `dist/${f}`);
  });

  it('parses a frag access into the expected tree', async () => {
    const parser = await createCParser(DIST);
    const src = 'static void f(skb_frag_t *frag)\n{\n\tstruct page *p = frag->bv_page;\n}\n';
    const tree = parser.parse(src);
    assert.ok(tree);
    const root = tree.rootNode;
    assert.equal(root.type, 'translation_unit');
    assert.equal(root.hasError, false);
    const fn = root.namedChildren[0]!;
    assert.equal(fn.type, 'function_definition');
    const fields = root.descendantsOfType('field_expression');
    assert.equal(fields.length, 1);
    const access = fields[0]!;
    assert.equal(access.childForFieldName('argument')?.text, 'frag');
    assert.equal(access.childForFieldName('field')?.text, 'bv_page');
    assert.equal(access.childForFieldName('operator')?.text, '->');
    assert.deepEqual(access.startPosition, { row: 2, column: src.split("\n")[2]!.indexOf("frag->") });
    tree.delete();
    parser.delete();
  });

  it('reports an error node for broken C instead of throwing', async () => {
    const parser = await createCParser(DIST);
    const tree = parser.parse('int f( { return frag->; ')!;
    assert.equal(tree.rootNode.hasError, true);
    tree.delete();
    parser.delete();
  });

  it('gives a clear error when the grammar is not where it is looked for', async () => {
    await assert.rejects(createCParser(join(ROOT, 'test')), /tree-sitter|ENOENT|no such file/);
  });
});
