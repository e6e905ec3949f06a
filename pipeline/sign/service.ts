// Electronic signatures on lot dispositions (21 CFR Part 11): a single-use challenge bound to
// the record hash, re-authentication (password every time, TOTP with the first signature of a
// session), the signature row and its audit event with the same record hash in one transaction,
// and invalidation when a fact under a signed lot changes afterwards.

import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { can, type Principal } from '../auth/permissions.js';
import { AuthError, type AuthService } from '../auth/service.js';
import type { LotgateConfig } from '../config/config.js';
import type { PartnerConfig } from '../model/types.js';
import { lotReadinessMessage } from '../outbound/messages.js';
import { outboundHeld, recomputeReadiness } from '../readiness/recompute.js';
import { lotSignaturesPayload, manifest, type SignatureManifest } from './payload.js';
export { manifest, type SignatureManifest } from './payload.js';
import type { SignatureRow, Store } from '../store/store.js';
import { DECISIONS, lotRecord, MEANINGS, type Decision, type LotRecord } from './record.js';

const CHALLENGE_MINUTES = 5;


export class SignError extends AuthError {}

/** Separation of duties: whoever administers users (and so could create signers) cannot sign. */
export function assertMaySign(p: Principal): void {
  if (can(p, 'users:manage')) throw new SignError('E_SIGN_SOD', `${p.username} administers users and therefore cannot sign (separation of duties): sign with an account without the admin role`, 403);
}

export class SignService {
  constructor(
    private readonly deps: { store: Store; config: Pick<LotgateConfig, 'auth' | 'readiness'>; auth: AuthService; partners: () => Map<string, PartnerConfig>; now: () => Date },
  ) {}

  /** Step 1: what will be signed, and a challenge bound to its hash (valid a few minutes, single use). */
  async challengeLot(p: Principal, lotId: number, decision: string, meaning: string): Promise<{ challengeId: string; recordHash: string; record: LotRecord; expiresAt: string }> {
    assertMaySign(p);
    if (!DECISIONS.includes(decision as Decision)) throw new SignError('E_SIGN_DECISION', `decision must be one of ${DECISIONS.join(', ')}`, 400);
    if (!(MEANINGS as readonly string[]).includes(meaning)) throw new SignError('E_SIGN_MEANING', `meaning must be one of ${MEANINGS.join(', ')}`, 400);
    const r = await lotRecord(this.deps.store, lotId, decision, meaning);
    if (!r) throw new SignError('E_SIGN_NO_LOT', `lot ${lotId} not found`, 404);
    const challengeId = randomBytes(18).toString('base64url');
    const expiresAt = new Date(this.deps.now().getTime() + CHALLENGE_MINUTES * 60_000).toISOString();
    await this.deps.store.auth.insertChallenge({ id: challengeId, principalId: p.id, subject: `lot:${lotId}`, recordHash: r.recordHash, decision, meaning, expiresAt });
    return { challengeId, recordHash: r.recordHash, record: r.record, expiresAt };
  }

  /** Step 2: re-authenticate and sign. The record must still hash to what the challenge showed. */
  async signLot(req: { principal: Principal; lotId: number; challengeId: string; password: string; totp?: string; sessionHash?: string; ip?: string | null }): Promise<SignatureManifest> {
    const { store, auth } = this.deps;
    const a = store.auth;
    assertMaySign(req.principal);
    const ch = await a.takeChallenge(req.challengeId, req.principal.id, this.deps.now().toISOString());
    if (!ch || ch.subject !== `lot:${req.lotId}`) throw new SignError('E_SIGN_CHALLENGE', 'the signing challenge is unknown, used, expired or for another record: request a new one', 409);
    const needTotp = !req.sessionHash || !(await a.sessionHasSigned(req.sessionHash));
    await auth.reauthenticate(req.principal.id, { password: req.password, totp: req.totp, needTotp, ip: req.ip });
    const row = (await a.getPrincipal(req.principal.id))!;
    const now = this.deps.now();
    const signedAt = now.toISOString();
    const tz = this.deps.config.auth.timeZone;
    const localTime = DateTime.fromJSDate(now).setZone(tz).toFormat("yyyy-LL-dd HH:mm:ss ZZ");
    const id = await store.transaction(async (tx) => {
      const r = await lotRecord(tx, req.lotId, ch.decision, ch.meaning);
      if (!r || r.recordHash !== ch.recordHash) throw new SignError('E_SIGN_RECORD_CHANGED', 'the lot changed since the challenge was issued: review it again and request a new challenge', 409);
      const lot = r.record.lot;
      const audit = await tx.audit.appendAudit({
        actor: `principal:${row.id}`,
        action: 'signature.applied',
        subject: `lot:${lot.materialId}/${lot.lotNumber}`,
        at: signedAt,
        details: { kind: 'lot_disposition', printedName: row.displayName, signedAt, timeZone: tz, localTime, meaning: ch.meaning, decision: ch.decision, recordHash: r.recordHash, record: r.record },
      });
      const sid = await tx.auth.insertSignature({
        kind: 'lot_disposition',
        lotId: req.lotId,
        submissionId: null,
        principalId: row.id,
        printedName: row.displayName,
        signedAt,
        timeZone: tz,
        localTime,
        meaning: ch.meaning,
        decision: ch.decision,
        record: JSON.stringify(r.record),
        recordHash: r.recordHash,
        evidenceHash: r.evidenceHash,
        auditSeq: audit.seq,
      });
      await tx.facts.insertDisposition(req.lotId, { decision: ch.decision as Decision, decidedBy: row.displayName, decidedAt: signedAt }, { submissionId: null, partner: 'lotgate' });
      await recomputeReadiness({ config: this.deps.config, store: tx, partners: this.deps.partners }, [req.lotId], now, `principal:${row.id}`);
      // ERP/QMS get the signed decision with its manifestation even when the readiness state stays
      // the same (when it changed, recompute already stored this very message: same id, kept once).
      const facts = await tx.readiness.loadLotFacts(req.lotId);
      const readiness = await tx.readiness.getReadiness(req.lotId);
      if (readiness) {
        const vendorBatch = facts.identifiers.find((i) => i.scheme === 'cmo_batch' || i.scheme === 'vendor_batch')?.value;
        const msg = lotReadinessMessage({ ...facts.lot, vendor: facts.lot.vendor ?? undefined, vendorBatch }, readiness, readiness.computedAt, await lotSignaturesPayload(tx, req.lotId));
        await tx.outbox.enqueueOutbox({ ...msg, payload: msg.payload, state: outboundHeld(this.deps.partners, {}, facts.lot.vendor) ? 'held' : 'pending', submissionId: null });
      }
      if (req.sessionHash) await tx.auth.noteSessionSigned(req.sessionHash, signedAt);
      return sid;
    });
    return manifest((await a.listLotSignatures(req.lotId)).find((s) => s.id === id)!, row.username);
  }
}
