import { describe, expect, it } from 'vitest';
import { quantityRule } from '../../pipeline/readiness/rules/quantity.js';
import { codes, defaultRules, emptyFacts, lot, NOW, plannedReceipt } from './facts.js';

const rules = defaultRules({ quantityTolerancePct: 10 });
const run = (lotQty: number | null, poQty: number | null, lotUom: string | null = 'EA', poUom: string | null = 'EA', r = rules) =>
  quantityRule(emptyFacts({ lot: lot({ quantity: lotQty, uom: lotUom }), plannedReceipt: plannedReceipt({ quantity: poQty, uom: poUom }) }), r, NOW);

describe('quantity rule', () => {
  it('accepts quantities within tolerance, the boundary included', () => {
    expect(run(10000, 10000)).toEqual([]);
    expect(run(11000, 10000)).toEqual([]);
    expect(run(9000, 10000)).toEqual([]);
    expect(run(1.1, 1.0, 'kg', 'kg')).toEqual([]);
  });

  it('is CONDITIONAL beyond tolerance, saying by how much and which PO line', () => {
    const reasons = run(11001, 10000);
    expect(codes(reasons)).toEqual(['R_QTY_OUT_OF_TOLERANCE']);
    expect(reasons[0].severity).toBe('CONDITIONAL');
    expect(reasons[0].message).toContain('quantity 11001 EA is over PO line 4500001234/10 (10000 EA) by 10.01 %, beyond the 10 % tolerance');
    expect(reasons[0].evidence).toEqual([
      { kind: 'lot', ref: 'L2026-001', detail: 'quantity 11001 EA' },
      { kind: 'planned_receipt', ref: '4500001234/10', detail: 'quantity 10000 EA' },
    ]);
    expect(run(7500, 10000)[0].message).toContain('under PO line 4500001234/10 (10000 EA) by 25 %');
  });

  it('uses the rule set tolerance', () => {
    expect(codes(run(10300, 10000, 'EA', 'EA', defaultRules({ quantityTolerancePct: 2 })))).toEqual(['R_QTY_OUT_OF_TOLERANCE']);
    expect(codes(run(10001, 10000, 'EA', 'EA', defaultRules({ quantityTolerancePct: 0 })))).toEqual(['R_QTY_OUT_OF_TOLERANCE']);
  });

  it('is CONDITIONAL when the units differ, compared case-insensitively', () => {
    const reasons = run(500, 10000, 'kg', 'EA');
    expect(codes(reasons)).toEqual(['R_QTY_UOM_MISMATCH']);
    expect(reasons[0].severity).toBe('CONDITIONAL');
    expect(run(10000, 10000, 'ea', ' EA ')).toEqual([]);
  });

  it('reads a unit missing on one side as the base unit', () => {
    expect(run(10000, 10000, null, 'EA')).toEqual([]);
    expect(codes(run(20000, 10000, 'EA', null))).toEqual(['R_QTY_OUT_OF_TOLERANCE']);
  });

  it('has nothing to compare without both quantities, without a PO line, or with a zero PO quantity', () => {
    expect(run(null, 10000)).toEqual([]);
    expect(run(10000, null)).toEqual([]);
    expect(run(10000, 0)).toEqual([]);
    expect(quantityRule(emptyFacts({ plannedReceipt: null }), rules, NOW)).toEqual([]);
  });
});
