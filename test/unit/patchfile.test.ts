import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { patchPaths, patchSubject, readSeriesDir } from '../../extension/core/series/patchfile';

const patch = (subject: string, files: string[]) =>
  `From 0 Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH 1/3] ${subject}\n\nbody\n---\n` +
  files.map((f) => `diff --git a/${f} b/${f}\n--- a/${f}\n+++ b/${f}\n@@ -1 +1 @@\n-a\n+b\n`).join('');

describe('patch files', () => {
  it('unfolds the subject and drops the [PATCH] prefix', () => {
    assert.equal(patchSubject('From: x\nSubject: [PATCH net-next v2 2/3] net: introduce\n abstraction for network memory\n\nbody'), 'net: introduce abstraction for network memory');
    assert.equal(patchSubject('From: x\r\nSubject: [RFC] [PATCH] a\r\n\r\nSubject: not this'), 'a');
    assert.equal(patchSubject('no headers'), undefined);
  });

  it('lists touched paths, new names for renames, once each', () => {
    const text = patch('x', ['a/b.c', 'include/x.h']) + 'diff --git a/old.c b/new.c\nsimilarity index 90%\n' + patch('y', ['a/b.c']);
    assert.deepEqual(patchPaths(text), ['a/b.c', 'include/x.h', 'new.c']);
  });

  const dir = mkdtempSync(join(tmpdir(), 'netmem-series-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the series order file, skipping the cover letter and comments', async () => {
    writeFileSync(join(dir, '0000-cover-letter.patch'), 'Subject: [PATCH 0/2] cover\n\n');
    writeFileSync(join(dir, '0001-a.patch'), patch('first', ['a.c']));
    writeFileSync(join(dir, '0002-b.patch'), patch('second', ['b.c']));
    writeFileSync(join(dir, 'series'), '# order\n0002-b.patch\n0001-a.patch\n');
    const s = await readSeriesDir(dir);
    assert.deepEqual(s.map((p) => [p.subject, p.files]), [['second', ['b.c']], ['first', ['a.c']]]);
  });

  it('a series naming a missing patch, or a patch without a diff, is an error', async () => {
    writeFileSync(join(dir, 'series'), '0003-missing.patch\n');
    await assert.rejects(readSeriesDir(dir), /names 0003-missing\.patch, which does not exist/);
    writeFileSync(join(dir, 'series'), 'notes.patch\n');
    writeFileSync(join(dir, 'notes.patch'), 'just text\n');
    await assert.rejects(readSeriesDir(dir), /notes\.patch holds no diff/);
    await assert.rejects(readSeriesDir(join(dir, 'nope')), /no series at/);
  });
});
