import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stripDebianIgnoreBlock } from '../../extension/core/kernel/base';

const upstream = '# Rust analyzer configuration\n/rust-project.json\n';
const debianBlock = '\n#\n# Debian packaging: ignore everything at the top level, since it isn\'t\n# included in our repository\n#\n/*\n!/debian/\n';

describe("Debian's top-level .gitignore block", () => {
  it('is dropped, keeping everything before it and ending in one newline', () => {
    assert.equal(stripDebianIgnoreBlock(upstream + debianBlock), upstream);
  });

  it('rules after the block are kept', () => {
    assert.equal(stripDebianIgnoreBlock(upstream + debianBlock + '/later\n'), upstream + '\n/later\n');
  });

  it('a .gitignore without it is left alone', () => {
    assert.equal(stripDebianIgnoreBlock(upstream), undefined);
  });

  it('an unterminated block is left alone rather than cutting the file', () => {
    assert.equal(stripDebianIgnoreBlock(upstream + '# Debian packaging: ignore everything at the top level\n/*\n'), undefined);
  });
});
