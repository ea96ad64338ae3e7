// The guest initramfs: the gen_init_cpio list (pure), the ELF check for busybox, compiling the guest
// programs with the real gcc when it is installed, and the packing pipeline with a stand-in
// gen_init_cpio (the real one only exists in a kernel build directory).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { KernelError } from '../../extension/core/kernel/build';
import {
  BUSYBOX_APPLETS,
  buildInitramfs,
  checkBusybox,
  compileGuestPrograms,
  elfIsStatic,
  genInitCpio,
  guestSources,
  initramfsList,
} from '../../extension/core/kernel/initramfs';
import { CancelledError } from '../../extension/core/util/process';

const guestDir = join(__dirname, '..', '..', 'kernel-ref', 'guest');

const layout = {
  init: '/opt/netmem/kernel-ref/guest/init',
  busybox: '/bin/busybox',
  programs: [
    { name: 'vsock_loopback', path: '/cache/vsock_loopback-1' },
    { name: 'kcm', path: '/cache/kcm-2' },
    { name: 'tcp_frags', path: '/cache/tcp_frags-3' },
  ],
};

/** The commands /init runs (first word of each command), minus shell keywords and builtins. */
function commandsOfInit(script: string): Set<string> {
  const builtins = new Set([
    'if', 'then', 'else', 'elif', 'fi', 'for', 'in', 'do', 'done', 'case', 'esac', 'while', 'until', 'export',
    'umask', 'echo', 'exec', 'cd', 'set', 'shift', 'local', 'return', 'break', 'continue', 'true', 'false', 'test',
    'read', 'printf', 'exit', 'trap', 'wait', 'eval', 'command',
  ]);
  const found = new Set<string>();
  // Whole-line comments go first (they may hold apostrophes), then single-quoted text, which may span
  // lines (an awk program) and is data; functions defined in the script are not programs.
  const text = script
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/'[^']*'/g, "''");
  for (const m of text.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\)/gm)) builtins.add(m[1]!);
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '');
    // Commands run inside "$(...)" count; other quoted text is data.
    const substitutions = [...line.matchAll(/\$\(([^()]*)\)/g)].map((m) => m[1]!);
    const unquoted = line.replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, '""');
    for (let seg of [unquoted, ...substitutions].flatMap((l) => l.split(/\|\||&&|[|;`]|\$\(|\(/))) {
      seg = seg.trim().replace(/^[^\s()]*\)\s*/, ''); // a case label
      for (;;) {
        const next = seg.replace(/^(exec|then|else|do|if|while|until|!)\s+/, '').replace(/^[A-Za-z_][A-Za-z0-9_]*=\S*\s*/, '');
        if (next === seg) break;
        seg = next;
      }
      const word = /^([a-z][a-z0-9_-]*)(\s|$)/.exec(seg)?.[1];
      if (word && !builtins.has(word)) found.add(word);
    }
  }
  return found;
}

describe('initramfs list', () => {
  const list = initramfsList(layout);
  const lines = list.trim().split('\n');

  it('has the console node, the mount points, busybox and /init', () => {
    assert.ok(lines.includes('nod /dev/console 0600 0 0 c 5 1'));
    for (const d of ['/dev', '/proc', '/sys', '/tmp', '/bin', '/tests']) assert.ok(lines.some((l) => l.startsWith(`dir ${d} `)), d);
    assert.ok(lines.includes('file /bin/busybox /bin/busybox 0755 0 0'));
    assert.ok(lines.includes('file /init /opt/netmem/kernel-ref/guest/init 0755 0 0'));
    // Every directory is created before anything inside it.
    const dirAt = (d: string) => lines.findIndex((l) => l.startsWith(`dir ${d} `));
    assert.ok(dirAt('/dev') < lines.indexOf('nod /dev/console 0600 0 0 c 5 1'));
    assert.ok(dirAt('/bin') < lines.findIndex((l) => l.startsWith('file /bin/busybox')));
    assert.ok(dirAt('/tests') < lines.findIndex((l) => l.startsWith('file /tests/')));
  });

  it('links every applet to busybox, relatively', () => {
    for (const a of BUSYBOX_APPLETS) assert.ok(lines.includes(`slink /bin/${a} busybox 0777 0 0`), a);
  });

  it('puts the programs under /tests in name order (the order /init runs them)', () => {
    const progs = lines.filter((l) => l.startsWith('file /tests/'));
    assert.deepEqual(progs, [
      'file /tests/kcm /cache/kcm-2 0755 0 0',
      'file /tests/tcp_frags /cache/tcp_frags-3 0755 0 0',
      'file /tests/vsock_loopback /cache/vsock_loopback-1 0755 0 0',
    ]);
  });

  it('is the same for the same input', () => {
    assert.equal(initramfsList({ ...layout, programs: [...layout.programs].reverse() }), list);
  });

  it('refuses paths and names gen_init_cpio would misread', () => {
    assert.throws(() => initramfsList({ ...layout, init: '/my dir/init' }), KernelError);
    assert.throws(() => initramfsList({ ...layout, busybox: 'busybox' }), /absolute/);
    assert.throws(() => initramfsList({ ...layout, programs: [{ name: 'x', path: '/a/${HOME}/x' }] }), KernelError);
    assert.throws(() => initramfsList({ ...layout, programs: [{ name: '../x', path: '/a/x' }] }), /bad program name/);
    assert.throws(() => initramfsList({ ...layout, programs: [{ name: 'a', path: '/a' }, { name: 'a', path: '/b' }] }), /two programs/);
    assert.throws(() => initramfsList({ ...layout, applets: ['sh', 'rm -rf'] }), /bad applet/);
  });

  it('provides every command the real /init runs', () => {
    const script = readFileSync(join(guestDir, 'init'), 'utf8');
    const used = commandsOfInit(script);
    for (const expected of ['mount', 'grep', 'ip', 'timeout', 'reboot', 'cut', 'uname', 'dmesg', 'tail', 'mkdir', 'sleep', 'cat']) assert.ok(used.has(expected), `parser sees ${expected}`);
    const missing = [...used].filter((c) => !(BUSYBOX_APPLETS as readonly string[]).includes(c));
    assert.deepEqual(missing, [], `/init uses commands without an applet link: ${missing.join(', ')}`);
  });

  it('/init prints the markers the verdict parser looks for', () => {
    const script = readFileSync(join(guestDir, 'init'), 'utf8');
    for (const m of ['netmem-guest: userspace', 'netmem-guest: run $name', 'netmem-guest: exit $name $status', 'netmem-guest: done', 'reboot -f']) {
      assert.ok(script.includes(m), m);
    }
    assert.match(script, /^#!\/bin\/sh\n/);
  });
});

describe('ELF check', () => {
  const elf64 = (phdrTypes: number[]) => {
    const b = Buffer.alloc(64 + 56 * phdrTypes.length);
    b.writeUInt32BE(0x7f454c46, 0);
    b[4] = 2; // 64-bit
    b[5] = 1; // little-endian
    b.writeBigUInt64LE(64n, 0x20);
    b.writeUInt16LE(56, 0x36);
    b.writeUInt16LE(phdrTypes.length, 0x38);
    phdrTypes.forEach((t, i) => b.writeUInt32LE(t, 64 + i * 56));
    return b;
  };

  it('tells static from dynamic programs by PT_INTERP', () => {
    assert.equal(elfIsStatic(elf64([6, 1, 1, 2])), true);
    assert.equal(elfIsStatic(elf64([6, 3, 1, 1])), false);
    assert.equal(elfIsStatic(Buffer.from('#!/bin/sh\necho hi\n'.padEnd(80))), undefined);
  });

  it('refuses a dynamically linked busybox with the apt-get command', async () => {
    // node itself is dynamically linked.
    await assert.rejects(checkBusybox(process.execPath), (e: unknown) => e instanceof KernelError && e.hint === 'apt-get install busybox-static');
    await assert.rejects(checkBusybox('/nonexistent/busybox'), /not found/);
  });

  it('accepts the installed busybox-static', { skip: !existsSync('/bin/busybox') && 'no /bin/busybox' }, async () => {
    await checkBusybox('/bin/busybox');
  });
});

const haveStaticGcc = (() => {
  try {
    const dir = mkdtempSync(join(tmpdir(), 'netmem-cc-'));
    try {
      writeFileSync(join(dir, 'a.c'), 'int main(void) { return 0; }\n');
      execFileSync('gcc', ['-static', '-o', join(dir, 'a'), join(dir, 'a.c')], { stdio: 'ignore' });
      return true;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } catch {
    return false;
  }
})();

describe('guest programs and packing', { skip: !haveStaticGcc && 'gcc -static does not work here' }, () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'netmem-initramfs-test-'));
  });
  /** Any static program stands in for busybox when busybox-static is not installed. */
  const staticBusybox = async () =>
    existsSync('/bin/busybox') ? '/bin/busybox' : (await compileGuestPrograms({ guestDir, cacheDir: join(work, 'cache') })).programs[0]!.path;
  after(() => rmSync(work, { recursive: true, force: true }));

  it('finds the guest programs', async () => {
    const names = (await guestSources(guestDir)).map((s) => s.name);
    assert.deepEqual(names, ['kcm', 'tcp_frags', 'vsock_loopback']);
  });

  it('compiles them static with -Wall -Wextra -Werror, then takes them from the cache', async () => {
    const cacheDir = join(work, 'cache');
    const first = await compileGuestPrograms({ guestDir, cacheDir });
    assert.deepEqual(first.cached, []);
    assert.deepEqual(first.programs.map((p) => p.name), ['kcm', 'tcp_frags', 'vsock_loopback']);
    for (const p of first.programs) {
      assert.equal(elfIsStatic(readFileSync(p.path).subarray(0, 4096)), true, p.name);
      assert.ok(statSync(p.path).mode & 0o100, `${p.name} is executable`);
    }
    const second = await compileGuestPrograms({ guestDir, cacheDir });
    assert.deepEqual(second.cached, ['kcm', 'tcp_frags', 'vsock_loopback']);
    assert.deepEqual(second.programs, first.programs);
  });

  it('reports a compile error with the compiler output', async () => {
    const bad = join(work, 'bad-guest');
    mkdirSync(bad);
    writeFileSync(join(bad, 'broken.c'), 'int main(void) { int unused; return 0; }\n');
    await assert.rejects(compileGuestPrograms({ guestDir: bad, cacheDir: join(work, 'cache2') }), (e: unknown) => {
      assert.ok(e instanceof KernelError);
      assert.match(e.message, /broken\.c/);
      assert.match(e.message, /unused/);
      return true;
    });
  });

  it('packs the list through gen_init_cpio and gzip', async () => {
    // A stand-in gen_init_cpio that writes its list file back: the output must gunzip to the list.
    const buildDir = join(work, 'build');
    mkdirSync(join(buildDir, 'usr'), { recursive: true });
    const tool = join(buildDir, 'usr', 'gen_init_cpio');
    writeFileSync(tool, '#!/bin/sh\nexec cat "$1"\n');
    chmodSync(tool, 0o755);
    const cacheDir = join(work, 'cache');
    const busybox = await staticBusybox();
    const out = join(work, 'out', 'initramfs.cpio.gz');
    const progress: string[] = [];
    const r = await buildInitramfs({ buildDir, out, guestDir, cacheDir, busybox, onProgress: (m) => progress.push(m) });
    const unpacked = gunzipSync(readFileSync(out)).toString('utf8');
    assert.equal(unpacked, r.list);
    assert.ok(unpacked.includes('nod /dev/console 0600 0 0 c 5 1'));
    assert.ok(unpacked.includes(`file /init ${join(guestDir, 'init')} 0755 0 0`));
    assert.equal(r.bytes, statSync(out).size);
    assert.ok(progress.some((m) => m.startsWith('packing the initramfs')));
    assert.ok(!existsSync(`${out}.tmp-${process.pid}`));
  });

  it('says to build the kernel first when gen_init_cpio is missing', async () => {
    await assert.rejects(genInitCpio(join(work, 'no-build')), /build the kernel first/);
    await assert.rejects(buildInitramfs({ buildDir: join(work, 'no-build'), out: join(work, 'x.gz'), guestDir }), /build the kernel first/);
  });

  it('fails when gen_init_cpio fails, and stops when cancelled', async () => {
    const buildDir = join(work, 'build-bad');
    mkdirSync(join(buildDir, 'usr'), { recursive: true });
    const tool = join(buildDir, 'usr', 'gen_init_cpio');
    writeFileSync(tool, '#!/bin/sh\necho "bad list line" >&2\nexit 1\n');
    chmodSync(tool, 0o755);
    const busybox = await staticBusybox();
    const cacheDir = join(work, 'cache');
    const out = join(work, 'bad.gz');
    await assert.rejects(buildInitramfs({ buildDir, out, guestDir, cacheDir, busybox }), /gen_init_cpio failed.*bad list line/s);
    assert.ok(!existsSync(out));
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(buildInitramfs({ buildDir, out, guestDir, cacheDir, busybox, signal: ac.signal }), CancelledError);
  });
});
