// The signature manifestation as it goes to ERP/QMS (in erp.lot_readiness messages).

import type { Store } from '../store/store.js';

export function lotSignaturesPayload(store: Store, lotId: number): Record<string, unknown>[] {
  return store.auth.listLotSignatures(lotId).map((s) => ({
    printedName: s.printedName,
    signedAt: s.signedAt,
    timeZone: s.timeZone,
    localTime: s.localTime,
    meaning: s.meaning,
    decision: s.decision,
    recordHash: s.recordHash,
    valid: s.invalidatedAt === null,
    invalidatedAt: s.invalidatedAt,
    invalidatedBySubmission: s.invalidatedBySubmission,
  }));
}
