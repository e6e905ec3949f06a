import { reason } from '../render.js';
import type { Rule } from '../rule.js';

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const normUom = (u: string | null | undefined): string => (u ?? '').trim().toLowerCase();

/**
 * Lot quantity within quantityTolerancePct of the PO line. A missing uom on one side is read as
 * the material's base unit (ERP lot masters often leave it out); two different units cannot be
 * compared here and are flagged for a person to check.
 */
export const quantityRule: Rule = (facts, rules) => {
  const po = facts.plannedReceipt;
  const lot = facts.lot;
  if (!po || !num(lot.quantity) || !num(po.quantity)) return [];
  const poRef = `${po.poNumber}/${po.poItem}`;
  const evidence = [
    { kind: 'lot', ref: lot.lotNumber, detail: `quantity ${lot.quantity}${lot.uom ? ` ${lot.uom}` : ''}` },
    { kind: 'planned_receipt', ref: poRef, detail: `quantity ${po.quantity}${po.uom ? ` ${po.uom}` : ''}` },
  ];
  if (normUom(lot.uom) && normUom(po.uom) && normUom(lot.uom) !== normUom(po.uom)) {
    return [reason(facts, 'R_QTY_UOM_MISMATCH', 'CONDITIONAL', { quantity: lot.quantity, uom: lot.uom, po: poRef, poQuantity: po.quantity, poUom: po.uom }, evidence)];
  }
  // A zero or negative ordered quantity gives no meaningful percentage.
  if (po.quantity <= 0) return [];
  const diff = Math.abs(lot.quantity - po.quantity);
  // The epsilon keeps 1.1 vs 1.0 at exactly 10 % from tripping a 10 % tolerance through float noise.
  if (diff * 100 <= rules.quantityTolerancePct * po.quantity * (1 + 1e-9)) return [];
  const pct = Math.round((diff / po.quantity) * 10000) / 100;
  const uom = po.uom ?? lot.uom ?? '';
  return [
    reason(
      facts,
      'R_QTY_OUT_OF_TOLERANCE',
      'CONDITIONAL',
      { quantity: lot.quantity, uom, over: lot.quantity > po.quantity, po: poRef, poQuantity: po.quantity, pct, tolerance: rules.quantityTolerancePct },
      evidence,
    ),
  ];
};
