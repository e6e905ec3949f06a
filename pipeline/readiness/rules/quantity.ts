import { lotTitle } from '../describe.js';
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
    return [
      {
        code: 'R_QTY_UOM_MISMATCH',
        severity: 'CONDITIONAL',
        message:
          `${lotTitle(facts)} is reported as ${lot.quantity} ${lot.uom} but PO line ${poRef} orders ${po.quantity} ${po.uom}; ` +
          `the quantities cannot be compared. Receiving should confirm the quantity, or the partner should report in ${po.uom}.`,
        evidence,
      },
    ];
  }
  // A zero or negative ordered quantity gives no meaningful percentage.
  if (po.quantity <= 0) return [];
  const diff = Math.abs(lot.quantity - po.quantity);
  // The epsilon keeps 1.1 vs 1.0 at exactly 10 % from tripping a 10 % tolerance through float noise.
  if (diff * 100 <= rules.quantityTolerancePct * po.quantity * (1 + 1e-9)) return [];
  const pct = Math.round((diff / po.quantity) * 10000) / 100;
  const uom = po.uom ?? lot.uom ?? '';
  return [
    {
      code: 'R_QTY_OUT_OF_TOLERANCE',
      severity: 'CONDITIONAL',
      message:
        `${lotTitle(facts)} quantity ${lot.quantity}${uom ? ` ${uom}` : ''} is ${lot.quantity > po.quantity ? 'over' : 'under'} PO line ${poRef} ` +
        `(${po.quantity}${uom ? ` ${uom}` : ''}) by ${pct} %, beyond the ${rules.quantityTolerancePct} % tolerance. Purchasing should accept the difference, or the partner should correct the quantity.`,
      evidence,
    },
  ];
};
