import dns from 'node:dns';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readXml, type XmlRecord } from '../../pipeline/parse/xml-reader.js';
import { chunked, collect, countingSource, fileErrorOf, gcFunction, liveHeap } from './helpers.js';

const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus');
const attacksDir = path.join(corpus, 'xml-attacks');
const epcisFile = path.join(corpus, 'epcis', 'GS1_US_Pharma_Example_2_2_1_1.xml');

async function records(xml: string | Buffer, record: string, chunk = 0, limits = {}): Promise<XmlRecord[]> {
  return collect(readXml(chunked(xml, chunk), { record }, limits));
}

describe.skipIf(!existsSync(attacksDir))('xml-attacks corpus', () => {
  const files = existsSync(attacksDir) ? readdirSync(attacksDir) : [];
  const hostile = files.filter((f) => /bomb|quadratic|cyclic|external/.test(f));

  afterEach(() => vi.restoreAllMocks());

  it('covers the bombs, quadratic blowup, cyclic and external-entity files', () => {
    expect(hostile.sort()).toEqual(['cyclic.xml', 'external.xml', 'external_file.xml', 'quadratic.xml', 'xmlbomb.xml', 'xmlbomb2.xml']);
  });

  for (const name of hostile) {
    it(`${name} is rejected with E_XML_DTD at its <!DOCTYPE>, after reading only the first bytes, touching no file or network`, async () => {
      const bytes = readFileSync(path.join(attacksDir, name));
      // Any attempt to resolve an external entity would have to go through one of these.
      const spies = [
        vi.spyOn(net.Socket.prototype, 'connect'),
        vi.spyOn(dns, 'lookup'),
        vi.spyOn(http, 'request'),
        vi.spyOn(http, 'get'),
        vi.spyOn(https, 'request'),
        vi.spyOn(https, 'get'),
        vi.spyOn(fs, 'open'),
        vi.spyOn(fs, 'openSync'),
        vi.spyOn(fs, 'readFile'),
        vi.spyOn(fs, 'readFileSync'),
        vi.spyOn(fs, 'createReadStream'),
      ];
      const { source, pulled } = countingSource(bytes.length, 256, (off, size) => bytes.subarray(off, off + size));
      const err = await fileErrorOf(readXml(source, { record: '*/*' }), 'E_XML_DTD');
      expect(err.message).toBe(
        'XML with a DTD (<!DOCTYPE>) is not accepted: DTDs can expand or fetch entities. Export the file without a DOCTYPE.',
      );
      expect([err.line, err.column]).toEqual([1, 1]);
      // quadratic.xml is 100 KB; the reader stops at the DOCTYPE in the first KB.
      expect(pulled()).toBeLessThanOrEqual(1024 + 256);
      for (const s of spies) expect(s).not.toHaveBeenCalled();
    });
  }

  it('dtd.xml (a public DOCTYPE after the XML declaration) is rejected at line 2, column 1', async () => {
    const err = await fileErrorOf(readXml(chunked(readFileSync(path.join(attacksDir, 'dtd.xml'))), { record: 'html/body' }), 'E_XML_DTD');
    expect([err.line, err.column]).toEqual([2, 1]);
  });

  it('dtd_element.xml is rejected too, also when the DOCTYPE arrives one byte at a time', async () => {
    const bytes = readFileSync(path.join(attacksDir, 'dtd_element.xml'));
    const err = await fileErrorOf(readXml(chunked(bytes, 1), { record: 'test/node' }), 'E_XML_DTD');
    expect([err.line, err.column]).toEqual([2, 1]);
  });

  it('simple.xml reads with record path root/element', async () => {
    const recs = await records(readFileSync(path.join(attacksDir, 'simple.xml')), 'root/element');
    expect(recs.map((r) => [r.line, r.name, r.get('.'), r.get('@key')])).toEqual([
      [3, 'element', 'text', 'value'],
      [4, 'element', 'text', undefined],
    ]);
  });

  it('simple-ns.xml (default namespace, leading PI) reads with record path root/element', async () => {
    const recs = await records(readFileSync(path.join(attacksDir, 'simple-ns.xml')), 'root/element', 5);
    expect(recs.map((r) => [r.line, r.get('.'), r.get('@key')])).toEqual([
      [4, 'text', 'value'],
      [5, 'text', undefined],
    ]);
  });
});

describe('DTDs and entities built here', () => {
  it('a billion-laughs DOCTYPE with a 5 MB internal subset is refused without reading it', async () => {
    const head = Buffer.from('<?xml version="1.0"?>\n<!-- comment -->\n  <!DOCTYPE lolz [\n');
    const { source, pulled } = countingSource(5 * 1024 * 1024, 64 * 1024, (off, size) =>
      off === 0 ? Buffer.concat([head, Buffer.alloc(size - head.length, 0x41)]) : Buffer.alloc(size, 0x41),
    );
    const err = await fileErrorOf(readXml(source, { record: 'a/b' }), 'E_XML_DTD');
    expect([err.line, err.column]).toEqual([3, 3]);
    expect(pulled()).toBeLessThanOrEqual(64 * 1024);
  });

  it('behind a prolog comment too large for the scanner, the parser still refuses the DOCTYPE', async () => {
    const xml = `<!--${'c'.repeat(2 * 1024 * 1024)}-->\n<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`;
    const err = await fileErrorOf(readXml(chunked(xml, 64 * 1024), { record: 'x' }), 'E_XML_DTD');
    expect(err.line).toBe(2);
  });

  it('a DOCTYPE after the root element is refused as a DTD as well', async () => {
    await fileErrorOf(readXml(chunked('<r><a>1</a><!DOCTYPE x></r>'), { record: 'r/a' }), 'E_XML_DTD');
  });

  it('the word DOCTYPE inside a comment or text is not a DTD', async () => {
    const recs = await records('<!-- no <!DOCTYPE here --><r><a>&lt;!DOCTYPE x&gt;</a></r>', 'r/a');
    expect(recs[0].get('.')).toBe('<!DOCTYPE x>');
  });

  it('an undefined entity → E_XML_ENTITY with its position; predefined entities and character references work', async () => {
    const err = await fileErrorOf(readXml(chunked('<r>\n  <a>x &ee; y</a>\n</r>'), { record: 'r/a' }), 'E_XML_ENTITY');
    expect(err.line).toBe(2);
    expect(err.column).toBeGreaterThan(5);
    const outside = await fileErrorOf(readXml(chunked('<r><z>&nbsp;</z><a>1</a></r>'), { record: 'r/a' }), 'E_XML_ENTITY');
    expect(outside.line).toBe(1);
    const [rec] = await records('<r><a t="&quot;q&quot;">&amp;&lt;&gt;&apos;&#65;&#x42;</a></r>', 'r/a');
    expect(rec.get('.')).toBe("&<>'AB");
    expect(rec.get('@t')).toBe('"q"');
  });
});

describe('malformed, hostile-sized and non-XML input', () => {
  it('malformed XML → E_XML_MALFORMED with line and column', async () => {
    const mismatched = await fileErrorOf(readXml(chunked('<r>\n<a>1</b>\n</r>'), { record: 'r/a' }), 'E_XML_MALFORMED');
    expect(mismatched.line).toBe(2);
    expect(mismatched.message).toMatch(/line 2, column \d+/);
    const unclosed = await fileErrorOf(readXml(chunked('<r><a>1</a>'), { record: 'r/a' }), 'E_XML_MALFORMED');
    expect(unclosed.message).toMatch(/unclosed tag/);
    await fileErrorOf(readXml(chunked('<r><a x=1/></r>'), { record: 'r/a' }), 'E_XML_MALFORMED');
  });

  it('records before the error were already yielded', async () => {
    const seen: string[] = [];
    await fileErrorOf(
      (async function* () {
        for await (const r of readXml(chunked('<r><a>1</a><a>2</a><a>3</b></r>'), { record: 'r/a' })) {
          seen.push(r.get('.') ?? '');
          yield r;
        }
      })(),
      'E_XML_MALFORMED',
    );
    expect(seen).toEqual(['1', '2']);
  });

  it('nesting deeper than maxDepth → E_XML_TOO_DEEP', async () => {
    const deep = '<a>'.repeat(300) + '</a>'.repeat(300);
    const err = await fileErrorOf(readXml(chunked(deep), { record: 'a/a' }), 'E_XML_TOO_DEEP');
    expect(err.message).toMatch(/256 levels/);
    await fileErrorOf(readXml(chunked('<a><b><c><d/></c></b></a>'), { record: 'a/b' }, { maxDepth: 3 }), 'E_XML_TOO_DEEP');
    expect(await records('<a><b><c><d/></c></b></a>', 'a/b', 0, { maxDepth: 4 })).toHaveLength(1);
  });

  it('a text node larger than maxTextBytes → E_XML_TOO_LARGE, inside or outside a record, without reading on', async () => {
    for (const [prefix, record] of [
      ['<r><a>', 'r/a'],
      ['<r><skip>', 'r/a'],
      ['<r><a v="', 'r/a'],
      ['<r><!--', 'r/a'],
      ['<r><![CDATA[', 'r/a'],
    ] as const) {
      const { source, pulled } = countingSource(40 * 1024 * 1024, 64 * 1024, (off, size) =>
        off === 0 ? Buffer.concat([Buffer.from(prefix), Buffer.alloc(size - prefix.length, 0x7a)]) : Buffer.alloc(size, 0x7a),
      );
      await fileErrorOf(readXml(source, { record }, { maxTextBytes: 1024 * 1024 }), 'E_XML_TOO_LARGE');
      expect(pulled(), prefix).toBeLessThan(3 * 1024 * 1024);
    }
  });

  it('a huge element name is refused too', async () => {
    const { source } = countingSource(8 * 1024 * 1024, 64 * 1024, (off, size) =>
      off === 0 ? Buffer.concat([Buffer.from('<r><'), Buffer.alloc(size - 4, 0x6e)]) : Buffer.alloc(size, 0x6e),
    );
    await fileErrorOf(readXml(source, { record: 'r/a' }, { maxTextBytes: 1024 * 1024 }), 'E_XML_TOO_LARGE');
  });

  it('a record larger than maxRecordBytes (many small children) → E_XML_TOO_LARGE', async () => {
    const xml = `<r><a>${'<c>0123456789</c>'.repeat(2000)}</a></r>`;
    const err = await fileErrorOf(readXml(chunked(xml), { record: 'r/a' }, { maxRecordBytes: 10_000 }), 'E_XML_TOO_LARGE');
    expect(err.message).toMatch(/record starting at line 1/);
    expect(await records(xml, 'r/a', 0, { maxRecordBytes: 100_000 })).toHaveLength(1);
  });

  it('binary, PDF, CSV and empty files get clear errors', async () => {
    const pdf = await fileErrorOf(readXml(chunked('%PDF-1.4\n%\xe2\xe3\n'), { record: 'a/b' }), 'E_BINARY');
    expect(pdf.message).toMatch(/PDF document/);
    await fileErrorOf(readXml(chunked(Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4])), { record: 'a/b' }), 'E_BINARY');
    await fileErrorOf(readXml(chunked(Buffer.from([0x3c, 0x61, 0x3e, 0, 0, 0, 0x3c, 0x2f, 0x61, 0x3e])), { record: 'a/b' }), 'E_BINARY');
    const csv = await fileErrorOf(readXml(chunked('lot,qty\nA1,5\n'), { record: 'a/b' }), 'E_XML_MALFORMED');
    expect(csv.message).toMatch(/not an XML file/);
    await fileErrorOf(readXml(chunked(''), { record: 'a/b' }), 'E_EMPTY_FILE');
    await fileErrorOf(readXml(chunked('\ufeff  \n'), { record: 'a/b' }), 'E_EMPTY_FILE');
  });
});

describe('large documents', () => {
  it('streams 100k generated events with flat live memory and correct lines', async () => {
    const gc = gcFunction();
    const events = 100_000;
    async function* gen(): AsyncGenerator<Buffer> {
      yield Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<EPCISDocument>\n<EPCISBody>\n<EventList>\n');
      let buf = '';
      for (let i = 0; i < events; i++) {
        buf += `<ObjectEvent>\n  <eventTime>2024-01-01T00:00:00Z</eventTime>\n  <epcList><epc>urn:epc:${i}</epc></epcList>\n  <extension><ilmd><lotNumber>L${i}</lotNumber></ilmd></extension>\n</ObjectEvent>\n`;
        if (buf.length > 65536) {
          yield Buffer.from(buf);
          buf = '';
        }
      }
      yield Buffer.from(`${buf}</EventList>\n</EPCISBody>\n</EPCISDocument>\n`);
    }
    const samples: number[] = [];
    let n = 0;
    let ok = true;
    for await (const r of readXml(gen(), { record: 'EPCISDocument/EPCISBody/EventList/ObjectEvent' })) {
      if (r.line !== 5 + 5 * n || r.get('extension/ilmd/lotNumber') !== `L${n}`) ok = false;
      n++;
      if (n % 25_000 === 0) samples.push(liveHeap(gc));
    }
    expect(n).toBe(events);
    expect(ok).toBe(true);
    expect(Math.max(...samples) - samples[0]).toBeLessThan(8 * 1024 * 1024);
  });
});

describe('encodings from BOM and XML declaration', () => {
  const doc = (decl: string) => `${decl}<lots><lot id="Ä1">Größe €5</lot></lots>`;

  it('ISO-8859-1 and windows-1252 when declared', async () => {
    const latin = iconv.encode(doc('<?xml version="1.0" encoding="ISO-8859-1"?>').replace('€', 'E'), 'latin1');
    const [a] = await records(latin, 'lots/lot', 3);
    expect([a.get('@id'), a.get('.')]).toEqual(['Ä1', 'Größe E5']);
    const cp = iconv.encode(doc("<?xml version='1.0' encoding='windows-1252'?>"), 'windows-1252');
    const [b] = await records(cp, 'lots/lot');
    expect(b.get('.')).toBe('Größe €5');
  });

  it('UTF-8 by default, with or without BOM', async () => {
    const [a] = await records(doc(''), 'lots/lot', 1);
    expect(a.get('.')).toBe('Größe €5');
    const [b] = await records(Buffer.from(`\ufeff${doc('<?xml version="1.0" encoding="UTF-8"?>')}`), 'lots/lot');
    expect(b.get('@id')).toBe('Ä1');
  });

  it('UTF-16LE and UTF-16BE by BOM', async () => {
    const text = doc('<?xml version="1.0" encoding="UTF-16"?>');
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, 'utf16le')]);
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode(text, 'utf16be')]);
    for (const bytes of [le, be]) {
      const [r] = await records(bytes, 'lots/lot', 3);
      expect([r.line, r.get('@id'), r.get('.')]).toEqual([1, 'Ä1', 'Größe €5']);
    }
  });

  it('latin1 bytes in a file that declares (or defaults to) UTF-8 → E_ENCODING naming the declaration', async () => {
    const bytes = iconv.encode(`<?xml version="1.0"?>\n<lots>\n<lot>Größe</lot></lots>`, 'latin1');
    const err = await fileErrorOf(readXml(chunked(bytes), { record: 'lots/lot' }), 'E_ENCODING');
    expect(err.line).toBe(3);
    expect(err.message).toMatch(/XML/);
  });

  it('a BOM contradicting the declaration, or an unsupported encoding → E_ENCODING', async () => {
    await fileErrorOf(readXml(chunked(`\ufeff<?xml version="1.0" encoding="ISO-8859-1"?><a/>`), { record: 'a' }), 'E_ENCODING');
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('<?xml version="1.0" encoding="UTF-8"?><a/>', 'utf16le')]);
    await fileErrorOf(readXml(chunked(le), { record: 'a' }), 'E_ENCODING');
    const sjis = await fileErrorOf(readXml(chunked('<?xml version="1.0" encoding="Shift_JIS"?><a/>'), { record: 'a' }), 'E_ENCODING');
    expect(sjis.message).toMatch(/Shift_JIS/);
    await fileErrorOf(readXml(chunked('<?xml version="1.0" encoding="UTF-16"?><a/>'), { record: 'a' }), 'E_ENCODING');
  });
});

describe('record and field paths', () => {
  const xml = `<?xml version="1.0"?>
<ns:Doc xmlns:ns="urn:x" xmlns:m="urn:m">
  <Body>
    <List>
      <ObjectEvent kind="o" m:flag="yes">
        <bizStep> urn:step:a </bizStep>
        <epcList><epc>e1</epc><epc>e2</epc></epcList>
        <epcList><epc>e3</epc></epcList>
        <extension><m:ilmd><m:lotNumber>L1</m:lotNumber></m:ilmd></extension>
        <note><![CDATA[<b>raw</b>]]></note>
        <empty/>
      </ObjectEvent>
      <Skipped><bizStep>no</bizStep></Skipped>
      <AggregationEvent><bizStep>urn:step:b</bizStep><parent id="P1"/></AggregationEvent>
    </List>
    <Other><ObjectEvent><bizStep>wrong depth</bizStep></ObjectEvent></Other>
  </Body>
</ns:Doc>`;

  it('a|b alternatives, prefixes ignored, only elements at the record path', async () => {
    const recs = await records(xml, 'ns:Doc/Body/List/ObjectEvent|AggregationEvent', 7);
    expect(recs.map((r) => [r.line, r.name, r.get('bizStep')])).toEqual([
      [5, 'ObjectEvent', 'urn:step:a'],
      [14, 'AggregationEvent', 'urn:step:b'],
    ]);
  });

  it('"*" matches any one element', async () => {
    expect((await records(xml, 'Doc/Body/List/*')).map((r) => r.name)).toEqual(['ObjectEvent', 'Skipped', 'AggregationEvent']);
    expect((await records(xml, 'Doc/*/*/ObjectEvent')).map((r) => r.get('bizStep'))).toEqual(['urn:step:a', 'wrong depth']);
  });

  it('relative field paths: nested, repeated, attributes, own text, CDATA, prefixes', async () => {
    const [ev, agg] = await records(xml, 'Doc/Body/List/ObjectEvent|AggregationEvent');
    expect(ev.getAll('epcList/epc')).toEqual(['e1', 'e2', 'e3']);
    expect(ev.get('epcList/epc')).toBe('e1');
    expect(ev.get('extension/ilmd/lotNumber')).toBe('L1');
    expect(ev.get('extension/*/lotNumber')).toBe('L1');
    expect(ev.get('@kind')).toBe('o');
    expect(ev.get('@flag')).toBe('yes');
    expect(ev.get('@xmlns:m')).toBeUndefined();
    expect(ev.get('note')).toBe('<b>raw</b>');
    expect(ev.get('empty')).toBe('');
    expect(ev.get('missing')).toBeUndefined();
    expect(ev.getAll('missing/x')).toEqual([]);
    expect(ev.get('.')).toBe('');
    expect(agg.get('parent/@id')).toBe('P1');
    expect(agg.get('./bizStep')).toBe('urn:step:b');
  });

  it('invalid paths → E_XML_PATH', async () => {
    await fileErrorOf(readXml(chunked('<a/>'), { record: 'a//b' }), 'E_XML_PATH');
    await fileErrorOf(readXml(chunked('<a/>'), { record: 'a/@b' }), 'E_XML_PATH');
    await fileErrorOf(readXml(chunked('<a/>'), { record: '' }), 'E_XML_PATH');
    const [r] = await records('<a><b>1</b></a>', 'a/b');
    expect(() => r.get('@x/y')).toThrow(/attribute must be the last step/);
    expect(() => r.get('../b')).toThrow(/not supported/);
  });
});

describe.skipIf(!existsSync(epcisFile))('GS1 US pharma EPCIS document', () => {
  const recordPath = 'EPCISDocument/EPCISBody/EventList/ObjectEvent|AggregationEvent';

  it('yields its 8 events in order with bizStep, eventTime, lot and expiry', async () => {
    const events = await collect(readXml(chunked(readFileSync(epcisFile), 4096), { record: recordPath }));
    expect(events.map((e) => [e.line, e.name, e.get('bizStep'), e.get('eventTime')])).toEqual([
      [108, 'ObjectEvent', 'urn:epcglobal:cbv:bizstep:commissioning', '2023-03-27T06:45:16Z'],
      [142, 'ObjectEvent', 'urn:epcglobal:cbv:bizstep:commissioning', '2023-03-27T06:46:16Z'],
      [167, 'AggregationEvent', 'urn:epcglobal:cbv:bizstep:packing', '2023-03-27T06:50:16Z'],
      [188, 'AggregationEvent', 'urn:epcglobal:cbv:bizstep:packing', '2023-03-27T06:51:16Z'],
      [209, 'AggregationEvent', 'urn:epcglobal:cbv:bizstep:packing', '2023-03-27T06:52:16Z'],
      [230, 'ObjectEvent', 'urn:epcglobal:cbv:bizstep:commissioning', '2023-04-01T06:47:16Z'],
      [247, 'AggregationEvent', 'urn:epcglobal:cbv:bizstep:packing', '2023-04-01T06:48:16Z'],
      [267, 'ObjectEvent', 'urn:epcglobal:cbv:bizstep:shipping', '2023-04-01T07:48:16Z'],
    ]);
    // The two commissioning events of saleable units and cases carry the lot master data (ILMD).
    expect(events.map((e) => [e.get('extension/ilmd/lotNumber'), e.get('extension/ilmd/itemExpirationDate')])).toEqual([
      ['A123', '2025-03-27'],
      ['A123', '2025-03-27'],
      [undefined, undefined],
      [undefined, undefined],
      [undefined, undefined],
      [undefined, undefined],
      [undefined, undefined],
      [undefined, undefined],
    ]);
    expect(events[0].getAll('epcList/epc')).toHaveLength(12);
    expect(events[0].get('epcList/epc')).toBe('urn:epc:id:sgtin:030001.0012345.11');
    expect(events[1].getAll('epcList/epc')).toEqual([
      'urn:epc:id:sgtin:030001.1012345.110',
      'urn:epc:id:sgtin:030001.1012345.111',
      'urn:epc:id:sgtin:030001.1012345.121',
    ]);
    expect(events[2].get('parentID')).toBe('urn:epc:id:sgtin:030001.1012345.110');
    expect(events[2].getAll('childEPCs/epc')).toHaveLength(4);
    const shipping = events[7];
    expect(shipping.get('action')).toBe('OBSERVE');
    expect(shipping.getAll('bizTransactionList/bizTransaction/@type')).toEqual(['urn:epcglobal:cbv:btt:po', 'urn:epcglobal:cbv:btt:desadv']);
    expect(shipping.get('extension/destinationList/destination')).toBe('urn:epc:id:sgln:039999.999999.0');
    expect(shipping.get('dropShipment')).toBe('false');
    expect(shipping.get('readPoint/id')).toBe('urn:epc:id:sgln:030001.111121.0');
  });

  it('the header vocabulary can be read as records too (prefixed path steps)', async () => {
    const els = await collect(
      readXml(chunked(readFileSync(epcisFile)), {
        record: 'epcis:EPCISDocument/EPCISHeader/extension/EPCISMasterData/VocabularyList/Vocabulary/VocabularyElementList/VocabularyElement',
      }),
    );
    expect(els).toHaveLength(6);
    expect(els[0].get('@id')).toBe('urn:epc:idpat:sgtin:030001.0012345.*');
    expect(els[0].getAll('attribute/@id')).toHaveLength(7);
    expect(els[0].get('attribute')).toBe('0001-0123-45');
  });
});
