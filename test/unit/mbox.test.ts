// The series parser on mboxes as git format-patch, b4 and mail clients write them, and on bad input.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeWords, parseMbox, parseSubject, splitTrailers } from '../../extension/core/series/mbox';
import { SeriesError } from '../../extension/core/series/model';
import { readSeriesDir } from '../../extension/core/series/patchfile';

const FIX = join(__dirname, '..', 'fixtures', 'series');
const fixture = (name: string) => readFileSync(join(FIX, name), 'utf8');

describe('mbox parser', () => {
  it('reads a b4 mbox: cover letter, patches put in n/M order, version, trailers, diffstat', () => {
    const s = parseMbox(fixture('b4-v2.mbox'), join(FIX, 'b4-v2.mbox'));
    assert.equal(s.title, 'Tidy up net/ and update the firmware');
    assert.equal(s.version, 2);
    assert.match(s.cover!.body, /Changes in v2:/);
    assert.deepEqual(s.patches.map((p) => [p.index, p.total, p.subject]), [
      [1, 3, 'net: change a'],
      [2, 3, 'net: rename move.c, drop gone.c, add new.h'],
      [3, 3, 'firmware: update fw.bin'],
    ]);
    const p1 = s.patches[0]!;
    assert.equal(p1.rawSubject, '[PATCH net-next v2 1/3] net: change a');
    assert.deepEqual(p1.author, { name: 'Jörg Müller', email: 'jm@example.org' });
    assert.equal(p1.messageId, '20240102-a-v2-1@example.org');
    assert.deepEqual(p1.trailers.map((t) => t.key), ['Cc', 'Signed-off-by', 'Reviewed-by', 'Acked-by', 'Fixes', 'Link']);
    assert.equal(p1.trailers[4]!.value, '1234567890ab ("net: add a()")');
    assert.equal(p1.message, 'From the mailing list: this line starts with From and must survive.', 'the >From quote is undone, trailers are not in the message');
    assert.match(p1.raw, /^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001\n/);
    assert.ok(!p1.raw.includes('\r'));
    assert.deepEqual([p1.added, p1.removed], [1, 1]);
    const h = p1.files[0]!.hunks[0]!;
    assert.deepEqual([h.oldStart, h.oldLines, h.newStart, h.newLines, h.added, h.removed], [1, 4, 1, 4, 1, 1]);
    assert.deepEqual(h.lines, [' int a(void)', ' {', '-\treturn 1;', '+\treturn 10;', ' }']);
  });

  it('knows renames, deleted and new files, and "no newline at end of file"', () => {
    const files = parseMbox(fixture('b4-v2.mbox')).patches[1]!.files;
    assert.deepEqual(files.map((f) => [f.status, f.oldPath, f.newPath, f.path]), [
      ['deleted', 'drivers/gone.c', null, 'drivers/gone.c'],
      ['renamed', 'net/move.c', 'net/moved.c', 'net/moved.c'],
      ['added', null, 'net/new.h', 'net/new.h'],
      ['added', null, 'net/nonl.txt', 'net/nonl.txt'],
    ]);
    assert.equal(files[1]!.similarity, 100);
    assert.deepEqual(files[3]!.hunks[0]!.lines, ['+no newline', '\\ No newline at end of file']);
  });

  it('reads a CRLF mail-client mbox with base64/Q/ISO-8859-1 encoded words, folded headers and a quoted-printable body', () => {
    const text = fixture('crlf.mbox');
    assert.ok(text.includes('\r\n'), 'the fixture is CRLF');
    const s = parseMbox(text);
    assert.deepEqual(s.patches.map((p) => p.subject), ['net: change a', 'net: rename move.c, drop gone.c, add new.h']);
    assert.deepEqual(s.patches.map((p) => p.author.name), ['Jörg Müller', 'Jörg Müller']);
    assert.equal(s.patches[0]!.trailers[0]!.value, 'Jörg Müller <jm@example.org>', 'quoted-printable body decoded');
    assert.match(s.patches[0]!.raw, /^\+\treturn 10;$/m);
    assert.match(s.patches[0]!.raw, /Content-Transfer-Encoding: 8bit/);
    assert.ok(!/quoted-printable|\r/.test(s.patches[0]!.raw));
  });

  it('marks binary patches (GIT binary patch and "Binary files differ")', () => {
    for (const name of ['binary.patch', 'binary-differ.patch']) {
      const [f] = parseMbox(fixture(name)).patches[0]!.files;
      assert.equal(f!.binary, true, name);
      assert.equal(f!.path, 'fw.bin');
      assert.equal(f!.hunks.length, 0);
    }
    const full = parseMbox(fixture('binary.patch')).patches[0]!.files[0]!;
    assert.equal(full.oldBlob, '5d27a5569afb5435805def9cc47d893fd2142985');
  });

  it('rejects garbage, mail without diffs, gaps, duplicates, mixed versions with clear messages', () => {
    assert.throws(() => parseMbox(fixture('garbage.txt'), '/x/garbage.txt'), (e: Error) => e instanceof SeriesError && /garbage\.txt is not a patch series: .*no mail headers/.test(e.message));
    assert.throws(() => parseMbox(fixture('no-diff.mbox')), /is not a patch series: none of its 1 message\(s\) holds a diff/);
    assert.throws(() => parseMbox('\0\x01binary'), /binary file/);
    assert.throws(() => parseMbox(''), /not a patch series/);
    const b4 = fixture('b4-v2.mbox');
    const messages = b4.split(/^(?=From git@z )/m);
    assert.equal(messages.length, 4);
    assert.throws(() => parseMbox(messages.filter((m) => !/ 2\/3\]/.test(m)).join('')), /is missing patch 2\/3/);
    assert.throws(() => parseMbox(b4 + messages[2]), /holds patch 1\/3 twice/);
    assert.throws(() => parseMbox(b4 + messages[2]!.replace(' v2 1/3]', ' v3 1/3]')), /more than one version/);
    assert.throws(() => parseMbox(messages[2]!.replace(/^@@ -1,4 \+1,4 @@$/m, '@@ -1,9 +1,9 @@')), /cut short/);
  });

  it('reads a patch sent as an attachment (multipart): text parts in order, HTML and signatures left out, git am takes it', () => {
    const diff = ['diff --git a/a.c b/a.c', '--- a/a.c', '+++ b/a.c', '@@ -1,3 +1,3 @@', ' int a(void)', ' {', '-\treturn 1;', '+\treturn 2;', ''].join('\n');
    const mail = [
      'From nobody Mon Sep 17 00:00:00 2001',
      'From: =?UTF-8?Q?Ren=C3=A9?= <rene@example.org>',
      'Date: Tue, 2 Jan 2024 10:00:00 +0100',
      'Subject: [PATCH] net: return 2',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed;',
      ' boundary="==b1=="',
      '',
      'This is a multi-part message in MIME format.',
      '--==b1==',
      'Content-Type: multipart/alternative; boundary=b2',
      '',
      '--b2',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Return two, caf=C3=A9 style.',
      '',
      'Signed-off-by: Ren=C3=A9 <rene@example.org>',
      '--b2',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>Return two</p>',
      '--b2--',
      '--==b1==',
      'Content-Type: text/x-patch; name="0001-a.patch"',
      'Content-Disposition: attachment; filename="0001-a.patch"',
      'Content-Transfer-Encoding: base64',
      '',
      ...(Buffer.from(`---\n a.c | 2 +-\n\n${diff}`).toString('base64').match(/.{1,76}/g) ?? []),
      '--==b1==',
      'Content-Type: application/pgp-signature; name="signature.asc"',
      '',
      '-----BEGIN PGP SIGNATURE-----',
      '--==b1==--',
      '',
    ].join('\n');
    const s = parseMbox(mail);
    const p = s.patches[0]!;
    assert.equal(p.subject, 'net: return 2');
    assert.equal(p.message, 'Return two, café style.');
    assert.deepEqual(p.trailers, [{ key: 'Signed-off-by', value: 'René <rene@example.org>' }]);
    assert.deepEqual([p.files.map((f) => f.path), p.added, p.removed], [['a.c'], 1, 1]);
    assert.ok(!/<p>|PGP/.test(p.raw), 'HTML and signature parts are not in the patch');

    const repo = mkdtempSync(join(tmpdir(), 'netmem-mime-'));
    try {
      const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.org', ...args], { cwd: repo, encoding: 'utf8', input: args[0] === 'am' ? p.raw : undefined });
      git('init', '-q');
      writeFileSync(join(repo, 'a.c'), 'int a(void)\n{\n\treturn 1;\n');
      git('add', 'a.c');
      git('commit', '-qm', 'base');
      git('am', '-q');
      assert.equal(readFileSync(join(repo, 'a.c'), 'utf8'), 'int a(void)\n{\n\treturn 2;\n');
      assert.equal(git('log', '-1', '--format=%an|%s'), 'René|net: return 2\n');
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
    assert.throws(() => parseMbox(mail.replace(/text\/x-patch/, 'image/png').replace(/text\/plain/, 'text/html')), /no text or patch part/);
  });

  it('parses subject prefixes and RFC 2047 words', () => {
    assert.deepEqual(parseSubject('[PATCH net-next v2 2/3] net: x'), { subject: 'net: x', prefixes: ['PATCH net-next v2 2/3'], reply: false, version: 2, number: 2, total: 3 });
    assert.deepEqual(parseSubject('[RFC PATCH 0/3] cover'), { subject: 'cover', prefixes: ['RFC PATCH 0/3'], reply: false, number: 0, total: 3 });
    assert.equal(parseSubject('Re: [PATCH 1/2] y').reply, true);
    assert.equal(parseSubject('[PATCH] [net] z').subject, 'z');
    assert.equal(decodeWords('=?UTF-8?B?w6TDtg==?= =?utf-8?q?_=C3=BC?= x'), 'äö ü x');
  });

  it('splits trailers only from a trailer paragraph', () => {
    assert.deepEqual(splitTrailers('Body.\n\nSigned-off-by: A <a@b>\nLink: https://x\n  continued'), {
      message: 'Body.',
      trailers: [
        { key: 'Signed-off-by', value: 'A <a@b>' },
        { key: 'Link', value: 'https://x continued' },
      ],
    });
    assert.deepEqual(splitTrailers('Body.\n\nNote: this is prose, not a trailer block\nreally'), { message: 'Body.\n\nNote: this is prose, not a trailer block\nreally', trailers: [] });
  });

  it('the bundled series reads as 3 patches with the cover letter (folder, series file)', async () => {
    const patches = await readSeriesDir(join(__dirname, '..', '..', 'patches'));
    assert.equal(patches.length, 3);
    assert.deepEqual(patches[1]!.files, ['include/net/netmem.h']);
    assert.equal(patches[1]!.patch.files[0]!.status, 'added');
  });
});
