import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDiagnostic, inFiles, parseBuildOutput, toCheckoutPath, warningKey } from '../../extension/core/kernel/diagnostics';

const ctx = { srcDir: '/k/linux', buildDir: '/tmp/build' };

describe('kernel build output → records', () => {
  it('maps absolute, ../ and build-relative paths to the checkout', () => {
    assert.equal(toCheckoutPath('/k/linux/net/core/skbuff.c', ctx), 'net/core/skbuff.c');
    assert.equal(toCheckoutPath('../net/core/skbuff.c', { srcDir: '/k/linux', buildDir: '/k/linux/build' }), 'net/core/skbuff.c');
    assert.equal(toCheckoutPath('net/core/skbuff.c', { srcDir: '/k/linux' }), 'net/core/skbuff.c');
    assert.equal(toCheckoutPath('./include/generated/autoconf.h', ctx), '/tmp/build/include/generated/autoconf.h');
  });

  it('parses gcc warnings and errors with their option, dropping context lines', () => {
    const text = [
      'In file included from /k/linux/include/linux/skbuff.h:20,',
      '                 from /k/linux/net/core/skbuff.c:40:',
      "/k/linux/net/core/skbuff.c:123:17: warning: unused variable 'x' [-Wunused-variable]",
      '  123 |         int x;',
      '      |             ^',
      "/k/linux/include/linux/skbuff.h:3400:9: error: 'skb_frag_t' has no member named 'page'",
      '/k/linux/net/kcm/kcmsock.c:10: fatal error: linux/nope.h: No such file or directory',
      '  CC      net/core/sock.o',
    ].join('\n');
    const ds = parseBuildOutput(text, ctx);
    assert.deepEqual(ds, [
      { file: 'net/core/skbuff.c', line: 123, column: 17, severity: 'warning', message: "unused variable 'x'", option: '-Wunused-variable', tool: 'gcc' },
      { file: 'include/linux/skbuff.h', line: 3400, column: 9, severity: 'error', message: "'skb_frag_t' has no member named 'page'", option: undefined, tool: 'gcc' },
      { file: 'net/kcm/kcmsock.c', line: 10, column: 0, severity: 'error', message: 'linux/nope.h: No such file or directory', option: undefined, tool: 'gcc' },
    ]);
  });

  it('a header warning repeated by every object that includes it is one record', () => {
    const w = '/k/linux/include/linux/skbuff.h:10:1: warning: x [-Wx]';
    assert.equal(parseBuildOutput(`${w}\n  CC a.o\n${w}\n`, ctx).length, 1);
  });

  it('parses sparse, ld and make errors', () => {
    const text = [
      '/k/linux/net/core/skbuff.c:77:6: warning: symbol \'foo\' was not declared. Should it be static?',
      '/k/linux/net/core/dev.c:9:3: incorrect type in argument 1 (different base types)',
      "ld: net/core/skbuff.o: in function `f': skbuff.c:(.text+0x1): undefined reference to `g'",
      'make[2]: *** [scripts/Makefile.build:250: net/core/skbuff.o] Error 1',
      'make[1]: *** [Makefile:2012: .] Error 2',
    ].join('\n');
    const ds = parseBuildOutput(text, ctx);
    assert.deepEqual(ds.map((d) => [d.tool, d.file, d.severity]), [
      ['gcc', 'net/core/skbuff.c', 'warning'],
      ['sparse', 'net/core/dev.c', 'warning'],
      ['ld', '/tmp/build/net/core/skbuff.o', 'error'],
      ['make', '', 'error'],
    ]);
    assert.match(ds[2]!.message, /undefined reference to `g'/);
  });

  it('ignores colour codes and carriage returns', () => {
    const ds = parseBuildOutput('\x1b[01m\x1b[K/k/linux/a.c:1:2:\x1b[m\x1b[K \x1b[01;35m\x1b[Kwarning: \x1b[m\x1b[Kw\r\n', ctx);
    assert.deepEqual(ds.map(formatDiagnostic), ['a.c:1:2: warning: w']);
  });

  it('formats like gcc and compares warnings without line numbers', () => {
    const [a] = parseBuildOutput('/k/linux/a.c:5:1: warning: w [-Wx]', ctx);
    const [b] = parseBuildOutput('/k/linux/a.c:9:1: warning: w [-Wx]', ctx);
    assert.equal(formatDiagnostic(a!), 'a.c:5:1: warning: w [-Wx]');
    assert.equal(warningKey(a!), warningKey(b!));
    assert.deepEqual(inFiles([a!, b!], ['b.c']), []);
    assert.equal(inFiles([a!], ['./a.c']).length, 1);
  });

  it('plain build chatter gives nothing', () => {
    assert.deepEqual(parseBuildOutput('  CC      net/core/skbuff.o\n  LD      vmlinux\nKernel: arch/x86/boot/bzImage is ready  (#1)\n', ctx), []);
  });
});
