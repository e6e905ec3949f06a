import { describe, it, expect } from 'vitest';
import { resolvePath, canonicalize, realPathOf, checkFileName, isValidPartnerId } from '../../pipeline/sftp/jail.js';

function ok(input: string) {
  const r = resolvePath(input);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(input)} to resolve, got ${r.error.code}: ${r.error.message}`);
  return r;
}
function code(input: string, fn = resolvePath) {
  const r = fn(input);
  return r.ok ? 'ok' : r.error.code;
}

describe('resolvePath (strict, for every file operation)', () => {
  it('maps the three folders and plain files in them', () => {
    expect(ok('/').target).toEqual({ kind: 'root' });
    expect(ok('').target).toEqual({ kind: 'root' });
    expect(ok('.').target).toEqual({ kind: 'root' });
    expect(ok('/inbound').target).toEqual({ kind: 'area', area: 'inbound' });
    expect(ok('/inbound/').virtual).toBe('/inbound');
    expect(ok('outbound').target).toEqual({ kind: 'area', area: 'outbound' });
    expect(ok('/inbound/lots.csv')).toEqual({ ok: true, target: { kind: 'file', area: 'inbound', name: 'lots.csv' }, virtual: '/inbound/lots.csv' });
    expect(ok('inbound/lots.csv').virtual).toBe('/inbound/lots.csv');
  });

  it('accepts odd but plain names: spaces, unicode, parentheses', () => {
    for (const n of ['Charge 4711 (final).csv', 'Prüfbericht_µg.pdf', '批次.xml', ' leading space.csv', 'a'.repeat(255), 'x..y.csv', '~tmp']) {
      expect(ok(`/inbound/${n}`).target).toEqual({ kind: 'file', area: 'inbound', name: n });
    }
  });

  it('resolves "." and ".." inside the tree as OpenSSH sftp-server does', () => {
    const v = (p: string) => ok(p).virtual;
    expect(v('/inbound/.')).toBe('/inbound'); // lftp's `cd inbound`
    expect(v('/inbound/./')).toBe('/inbound');
    expect(v('./inbound')).toBe('/inbound');
    expect(v('/inbound/./x.csv')).toBe('/inbound/x.csv');
    expect(v('/inbound/../outbound/x.ack.json')).toBe('/outbound/x.ack.json');
    expect(v('/inbound/..')).toBe('/');
    expect(v('/outbound/../inbound/../inbound/x.csv')).toBe('/inbound/x.csv');
    expect(ok('/inbound/.').target).toEqual({ kind: 'area', area: 'inbound' });
  });

  it('refuses a ".." that would leave the tree, and empty segments', () => {
    for (const p of ['..', '/..', '/../other/inbound', '/inbound/../..', '/inbound/../../acme-2/inbound', '../../etc/passwd', '/inbound//x', '//inbound']) {
      expect(code(p), p).toBe('E_PATH_DENIED');
    }
  });

  it('nothing follows a file name: "x.csv/." and "x.csv/.." are not directories', () => {
    for (const p of ['/inbound/x.csv/.', '/inbound/x.csv/..', '/inbound/x.csv/../y.csv', '/inbound/sub/../x.csv', '/nope/../inbound']) {
      expect(code(p), p).toBe('E_PATH_NOT_FOUND');
    }
  });

  it('a plain name at the top is that name in /inbound (put file.csv from the home)', () => {
    expect(ok('/file.csv')).toEqual({ ok: true, target: { kind: 'file', area: 'inbound', name: 'file.csv' }, virtual: '/inbound/file.csv' });
    expect(ok('file.csv').virtual).toBe('/inbound/file.csv');
    expect(ok('./file.csv').virtual).toBe('/inbound/file.csv');
    expect(ok('/outbound/../file.csv').virtual).toBe('/inbound/file.csv');
    expect(canonicalize('file.csv')).toMatchObject({ ok: true, virtual: '/inbound/file.csv' });
    expect(ok('outbound').target).toEqual({ kind: 'area', area: 'outbound' });
    expect(code('/.hidden.csv')).toBe('E_PATH_DENIED');
  });

  it('refuses hidden names (our temp files live there)', () => {
    expect(code('/inbound/.lots.csv.a1b2c3.part')).toBe('E_PATH_DENIED');
    expect(code('/inbound/.hidden')).toBe('E_PATH_DENIED');
    expect(code('/.quarantine')).toBe('E_PATH_DENIED');
  });

  it('refuses bytes no file name should carry', () => {
    for (const p of ['/inbound/a\u0000b', '/inbound/a\nb', '/inbound/a\rb', '/inbound/a\u001bb', '/inbound/a\\..\\b', '/inbound/evil\u202Evsc.exe', '/inbound/bad\uFFFD.csv', '/inbound/x\u007f']) {
      expect(code(p), JSON.stringify(p)).toBe('E_PATH_INVALID');
    }
  });

  it('refuses overly long names and paths', () => {
    expect(code(`/inbound/${'a'.repeat(256)}`)).toBe('E_PATH_INVALID');
    expect(code(`/inbound/${'é'.repeat(128)}`)).toBe('E_PATH_INVALID'); // 256 bytes in UTF-8
    expect(code(`/inbound/${'a/'.repeat(600)}`)).toBe('E_PATH_INVALID');
  });

  it('anything outside the partner tree simply does not exist', () => {
    for (const p of ['/etc/passwd', '/other/inbound', '/inbound/sub/file', '/outbound/a/b', '/inbound/x/', 'drop/x.csv', '/x.csv/']) {
      expect(code(p), p).toBe('E_PATH_NOT_FOUND');
    }
  });
});

describe('canonicalize (REALPATH only)', () => {
  it('resolves . and .. lexically and stops at the root, like a chroot', () => {
    const v = (p: string) => {
      const r = canonicalize(p);
      return r.ok ? r.virtual : r.error.code;
    };
    expect(v('.')).toBe('/');
    expect(v('')).toBe('/');
    expect(v('/inbound/..')).toBe('/');
    expect(v('/inbound/.')).toBe('/inbound');
    expect(v('/inbound/../../..')).toBe('/'); // stops at the root, like a chroot
    expect(v('/../../inbound')).toBe('/inbound');
    expect(v('inbound/./x.csv')).toBe('/inbound/x.csv');
    expect(v('//outbound//')).toBe('/outbound');
    expect(v('/inbound/../outbound/ack.json')).toBe('/outbound/ack.json');
  });

  it('never canonicalizes into another partner or a hidden name', () => {
    expect(code('/../other/inbound', canonicalize)).toBe('E_PATH_NOT_FOUND');
    expect(code('/inbound/../../acme-2/inbound', canonicalize)).toBe('E_PATH_NOT_FOUND');
    expect(code('/inbound/.x.part', canonicalize)).toBe('E_PATH_DENIED');
    expect(code('/inbound/a\u0000', canonicalize)).toBe('E_PATH_INVALID');
  });
});

describe('realPathOf', () => {
  it('joins under the partner root only', () => {
    expect(realPathOf('/drop/acme', { kind: 'root' })).toBe('/drop/acme');
    expect(realPathOf('/drop/acme', { kind: 'area', area: 'outbound' })).toBe('/drop/acme/outbound');
    expect(realPathOf('/drop/acme', { kind: 'file', area: 'inbound', name: 'a b.csv' })).toBe('/drop/acme/inbound/a b.csv');
  });
});

describe('names', () => {
  it('checkFileName', () => {
    expect(checkFileName('ok.csv')).toBeNull();
    expect(checkFileName('')?.code).toBe('E_PATH_INVALID');
    expect(checkFileName('a/b')?.code).toBe('E_PATH_INVALID');
    expect(checkFileName('.x')?.code).toBe('E_PATH_DENIED');
  });
  it('partner ids usable as user and folder names', () => {
    expect(isValidPartnerId('acme-cmo')).toBe(true);
    expect(isValidPartnerId('lab_1.eu')).toBe(true);
    for (const bad of ['', '.', '..', 'a..b', '-x', 'a/b', 'a b', 'x'.repeat(65), 'ümlaut']) expect(isValidPartnerId(bad), bad).toBe(false);
  });
});
