// The signature manifestation (name, time, meaning — §11.50) as the API, the CLI and the ERP/QMS
// payloads show it: `manifest` for people, `lotSignaturesPayload` for erp.lot_readiness messages
// (the same fields without internal ids).

import type { SignatureRow, Store } from '../store/store.js';

export interface SignatureManifest {
  id: number;
  signer: { id: number; printedName: string; username: string | null };
  signedAt: string;
  timeZone: string;
  localTime: string;
  meaning: string;
  decision: string;
  recordHash: string;
  valid: boolean;
  invalidatedAt: string | null;
  invalidatedBySubmission: number | null;
  invalidatedReason: string | null;
}

export function manifest(s: SignatureRow, username: string | null = null): SignatureManifest {
  return {
    id: s.id,
    signer: { id: s.principalId, printedName: s.printedName, username },
    signedAt: s.signedAt,
    timeZone: s.timeZone,
    localTime: s.localTime,
    meaning: s.meaning,
    decision: s.decision,
    recordHash: s.recordHash,
    valid: s.invalidatedAt === null,
    invalidatedAt: s.invalidatedAt,
    invalidatedBySubmission: s.invalidatedBySubmission,
    invalidatedReason: s.invalidatedReason,
  };
}

export async function lotSignaturesPayload(store: Store, lotId: number): Promise<Record<string, unknown>[]> {
  return (await store.auth.listLotSignatures(lotId)).map((s) => {
    const { id: _id, signer: _signer, invalidatedReason: _reason, ...rest } = manifest(s);
    return { printedName: s.printedName, ...rest };
  });
}
