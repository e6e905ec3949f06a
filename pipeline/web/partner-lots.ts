// A partner's own open lots for the portal: the lots it holds a batch id for (its `xref`
// identifiers), each with what lotgate is waiting on from that partner — a required document not
// yet received, a deviation it raised that is still open. Nothing about other partners' facts
// (their tests, their stages, the lot's overall state) is included.

import type { LotgateConfig } from '../config/config.js';
import { resolveRuleSet } from '../readiness/rule-set.js';
import type { Store } from '../store/store.js';

export interface PartnerLot {
  lotId: number;
  lotNumber: string;
  materialId: string;
  /** The partner's own id(s) of the lot (the value its files and forms carry), each value once. */
  batches: { scheme: string; value: string }[];
  waiting: { kind: 'document' | 'deviation'; what: string; message: string }[];
}

export async function partnerOpenLots(store: Store, config: Pick<LotgateConfig, 'readiness'>, partner: string, max = 500): Promise<PartnerLot[]> {
  const out: PartnerLot[] = [];
  // Open = no final (released / rejected) disposition. Identifiers the partner issued may come
  // from another partner's file (the ERP's cross-reference), so the issuer decides, not provenance.
  for (const id of await store.readiness.listOpenLotIds()) {
    const d = await store.reads.getLotDetailById(id);
    if (!d) continue;
    const batches: PartnerLot['batches'] = [];
    for (const i of d.identifiers) if (i.issuer === partner && !batches.some((b) => b.value === i.value)) batches.push({ scheme: i.scheme, value: i.value });
    if (!batches.length) continue;
    const rules = resolveRuleSet(config.readiness, d.material ?? { materialId: d.lot.materialId });
    const have = new Set(d.documents.map((x) => x.type));
    const waiting: PartnerLot['waiting'] = [];
    for (const t of rules.requiredDocuments) if (!have.has(t)) waiting.push({ kind: 'document', what: t, message: `${t.toUpperCase()} missing` });
    for (const dev of d.deviations) {
      if (dev.issuer === partner && (dev.status === 'open' || dev.status === 'investigation')) {
        waiting.push({ kind: 'deviation', what: dev.partnerRef, message: `deviation ${dev.partnerRef} ${dev.status === 'open' ? 'open' : 'under investigation'}${dev.title ? `: ${dev.title}` : ''}` });
      }
    }
    out.push({ lotId: d.lot.id, lotNumber: d.lot.lotNumber, materialId: d.lot.materialId, batches, waiting });
    if (out.length >= max) break;
  }
  return out;
}
