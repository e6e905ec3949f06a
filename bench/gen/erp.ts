// Generated ERP master data in the formats of Northwind's SAP exports (mappings/erp/*.yaml):
// materials, purchase order lines and batches. Every lot gets a contract manufacturer and that
// CMO's batch id, which the ERP records as a cmo_batch cross-reference — the "known lots and
// cross-references" every partner file is resolved against.

import path from 'node:path';
import { Rng } from '../lib/rng.js';
import { writeLines } from '../lib/line-writer.js';
import { dayOffset, sapDate } from './dates.js';

export type Family = 'oral-solid' | 'sterile-injectable';

export interface GenMaterial {
  materialId: string;
  description: string;
  group: 'FG-OSD' | 'FG-STI';
  family: Family;
}

export interface GenLot {
  index: number;
  material: GenMaterial;
  lotNumber: string;
  vendor: 'acme-cmo' | 'delta-cmo';
  vendorCode: string;
  vendorBatch: string;
  poNumber: string;
  poItem: string;
  /** Days from the anchor date. */
  plannedDay: number;
  manufactureDay: number;
  quantity: number;
}

export interface MasterData {
  materials: GenMaterial[];
  lots: GenLot[];
}

const VENDORS = [
  { id: 'acme-cmo', code: '0000300117', name: 'ACME Lohnfertigung GmbH', prefix: 'AC-' },
  { id: 'delta-cmo', code: '0000300245', name: 'Delta Contract Manufacturing, Inc.', prefix: 'DX-' },
] as const;

const OSD = ['Metformin HCl 500 mg film-coated tablets', 'Lisinopril 10 mg tablets', 'Atorvastatin calcium 20 mg tablets', 'Amlodipine 5 mg tablets', 'Sertraline 50 mg tablets', 'Omeprazole 20 mg capsules'];
const STI = ['Ondansetron 2 mg/mL injection', 'Enoxaparin 40 mg/0.4 mL syringe', 'Ceftriaxone 1 g powder for injection'];

export function generateMasterData(seed: number, lotCount: number, materialCount = 40): MasterData {
  const rng = new Rng(seed);
  const materials: GenMaterial[] = [];
  for (let i = 0; i < materialCount; i++) {
    const sterile = i % 4 === 3; // a quarter sterile injectables, the rest oral solids
    const base = sterile ? rng.pick(STI) : rng.pick(OSD);
    materials.push({
      materialId: String(10_012_345 + i).padStart(18, '0'),
      description: `${base}, pack ${rng.pick([30, 90, 100, 500])}`,
      group: sterile ? 'FG-STI' : 'FG-OSD',
      family: sterile ? 'sterile-injectable' : 'oral-solid',
    });
  }
  const lots: GenLot[] = [];
  for (let i = 0; i < lotCount; i++) {
    const v = VENDORS[rng.chance(0.6) ? 0 : 1];
    const plannedDay = rng.int(-90, 150);
    lots.push({
      index: i,
      material: materials[rng.int(0, materials.length - 1)],
      lotNumber: `NW26-${String(i + 1).padStart(6, '0')}`,
      vendor: v.id,
      vendorCode: v.code,
      vendorBatch: `${v.prefix}${String(200_000 + i)}`,
      poNumber: String(4_500_100_000 + i),
      poItem: '00010',
      plannedDay,
      manufactureDay: plannedDay - rng.int(20, 60),
      quantity: rng.int(80, 300) * 1000,
    });
  }
  return { materials, lots };
}

export function vendorName(id: string): string {
  return VENDORS.find((v) => v.id === id)?.name ?? id;
}

function* materialLines(md: MasterData): Generator<string> {
  yield 'Material;Material Description;Base Unit of Measure;EAN/UPC;NDC;Material Group;Material Type';
  for (const [i, m] of md.materials.entries()) {
    yield `${m.materialId};${m.description};EA;${String(370_001_101_014 + i * 1000).padStart(14, '0')};70001-${String(100 + i).padStart(4, '0')}-01;${m.group};FERT`;
  }
}

function* poLines(md: MasterData): Generator<string> {
  yield 'Purchasing Document,Item,Material,Short Text,PO Quantity,Order Unit,Vendor,Name of Vendor,Delivery Date,Confirmed Delivery Date,Batch,Vendor Batch,Deletion Indicator';
  for (const l of md.lots) {
    const qty = `"${l.quantity.toLocaleString('en-US')}.000"`;
    const name = vendorName(l.vendor).includes(',') ? `"${vendorName(l.vendor)}"` : vendorName(l.vendor);
    const confirmed = l.index % 3 === 0 ? '' : sapDate(dayOffset(l.plannedDay - 2));
    yield `${l.poNumber},${l.poItem},${l.material.materialId},${l.material.description.slice(0, 30).replace(/,/g, '')},${qty},EA,${l.vendorCode},${name},${sapDate(dayOffset(l.plannedDay))},${confirmed},${l.lotNumber},${l.vendorBatch},`;
  }
}

function* batchLines(md: MasterData): Generator<string> {
  yield 'Material;Batch;Plant;Vendor;Vendor Batch;Date of Manufacture;SLED/BBD;Quantity;Base Unit of Measure;Batch Status';
  for (const l of md.lots) {
    const made = dayOffset(l.manufactureDay);
    const expiry = dayOffset(l.manufactureDay + 3 * 365);
    yield `${l.material.materialId};${l.lotNumber};1000;${l.vendorCode};${l.vendorBatch};${sapDate(made)};${sapDate(expiry)};${l.quantity - (l.index % 7) * 150}.000;EA;Restricted`;
  }
}

/** Writes the three ERP exports into `dir`; returns their paths in the order they must be ingested. */
export async function writeErpFiles(dir: string, md: MasterData): Promise<string[]> {
  const files = [path.join(dir, 'ZMM_MATERIALS_20261120.csv'), path.join(dir, 'ZMM_PO_20261120.csv'), path.join(dir, 'ZMM_BATCHES_20261120.csv')];
  await writeLines(files[0], materialLines(md), '\uFEFF');
  await writeLines(files[1], poLines(md));
  await writeLines(files[2], batchLines(md));
  return files;
}
