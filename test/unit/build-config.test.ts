import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configMismatches, defaultBuildDir, kernelTreeProblem, objectEnabled, parseConfig } from '../../extension/core/kernel/build';

describe('Kconfig fragments', () => {
  it('reads set, module, string and unset options', () => {
    const c = parseConfig('CONFIG_NET=y\nCONFIG_KCM=m\nCONFIG_CMDLINE="a b"\n# CONFIG_IPV6 is not set\n# a comment\n');
    assert.deepEqual([...c], [['CONFIG_NET', 'y'], ['CONFIG_KCM', 'm'], ['CONFIG_CMDLINE', '"a b"'], ['CONFIG_IPV6', 'n']]);
  });

  it('names every option olddefconfig dropped or changed', () => {
    const fragment = 'CONFIG_NET=y\nCONFIG_AF_KCM=y\nCONFIG_VSOCKETS=y\n# CONFIG_IPV6 is not set\n';
    const dotconfig = 'CONFIG_NET=y\nCONFIG_AF_KCM=m\n# CONFIG_VSOCKETS is not set\nCONFIG_IPV6=y\n';
    assert.deepEqual(configMismatches(fragment, dotconfig), [
      { option: 'CONFIG_AF_KCM', wanted: 'y', got: 'm' },
      { option: 'CONFIG_VSOCKETS', wanted: 'y', got: 'n' },
      { option: 'CONFIG_IPV6', wanted: 'n', got: 'y' },
    ]);
    assert.deepEqual(configMismatches(fragment, 'CONFIG_NET=y\nCONFIG_AF_KCM=y\nCONFIG_VSOCKETS=y\n'), []);
  });
});

describe('kbuild objects', () => {
  const config = new Map([['CONFIG_AF_KCM', 'y'], ['CONFIG_VSOCKETS', 'y'], ['CONFIG_HFI1', 'n']]);
  it('obj-y, obj-$(CONFIG_X) and composite objects', () => {
    const mk = 'obj-y := skbuff.o datagram.o \\\n\t sock.o\nobj-$(CONFIG_AF_KCM) += kcm.o\nkcm-y := kcmsock.o kcmproc.o\nobj-$(CONFIG_HFI1) += hfi1.o\nhfi1-y += ipoib_tx.o\nvsock-objs := af_vsock.o\nobj-$(CONFIG_VSOCKETS) += vsock.o\n';
    assert.equal(objectEnabled(mk, 'skbuff.o', config), true);
    assert.equal(objectEnabled(mk, 'sock.o', config), true, 'continued line');
    assert.equal(objectEnabled(mk, 'kcmsock.o', config), true);
    assert.equal(objectEnabled(mk, 'af_vsock.o', config), true);
    assert.equal(objectEnabled(mk, 'ipoib_tx.o', config), false);
    assert.equal(objectEnabled(mk, 'nothere.o', config), false);
  });
});

describe('trees and build directories', () => {
  it('the build directory is outside the checkout and stable per checkout', () => {
    const env = { XDG_CACHE_HOME: '/c' };
    assert.equal(defaultBuildDir('/k/linux', env), defaultBuildDir('/k/linux/', env));
    assert.notEqual(defaultBuildDir('/k/linux', env), defaultBuildDir('/k/other', env));
    assert.match(defaultBuildDir('/k/linux', env), /^\/c\/netmem-series\/build\/[0-9a-f]{12}$/);
  });

  it('a directory without a kernel is named', () => {
    assert.match(kernelTreeProblem('/tmp')!, /^\/tmp is not a kernel tree \(no Makefile\)$/);
  });
});

describe('ccache across checkouts', () => {
  it('base_dir is the common ancestor of source and build directory, never /', async () => {
    const { ccacheEnv, commonAncestor } = await import('../../extension/core/kernel/build');
    assert.equal(commonAncestor('/c/netmem/linux', '/c/netmem/build/ab'), '/c/netmem');
    assert.equal(commonAncestor('/c/netmem/linux', '/c/netmem/linux'), '/c/netmem/linux');
    assert.equal(commonAncestor('/a/x', '/b/y'), '/');
    assert.deepEqual(ccacheEnv('/a/x', '/b/y'), {});
    assert.equal(ccacheEnv('/c/netmem/linux', '/c/netmem/build/ab').CCACHE_BASEDIR, '/c/netmem');
  });
});
