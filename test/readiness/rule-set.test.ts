import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  DEFAULT_READINESS_CONFIG,
  parseReadinessConfig,
  resolveRuleSet,
  validateReadinessConfig,
  type ReadinessConfig,
} from '../../pipeline/readiness/rule-set.js';
import { TEST_CONFIG } from './facts.js';

describe('resolveRuleSet', () => {
  it('returns the defaults for no material and for an unknown family', () => {
    expect(resolveRuleSet(TEST_CONFIG, null)).toEqual(DEFAULT_READINESS_CONFIG.default);
    expect(resolveRuleSet(TEST_CONFIG, undefined)).toEqual(DEFAULT_READINESS_CONFIG.default);
    expect(resolveRuleSet(TEST_CONFIG, { materialId: 'X', productFamily: 'unheard-of' })).toEqual(DEFAULT_READINESS_CONFIG.default);
    expect(resolveRuleSet(TEST_CONFIG, { materialId: 'X', productFamily: null })).toEqual(DEFAULT_READINESS_CONFIG.default);
  });

  it('applies the family over the defaults, replacing lists wholly', () => {
    const r = resolveRuleSet(TEST_CONFIG, { materialId: '000999', productFamily: 'sterile-injectable' });
    expect(r.requiredStages).toEqual(['compounding', 'filling', 'testing', 'qa_review']);
    expect(r.requiredDocuments).toEqual(['coa', 'batch_record']);
    expect(r.tests.map((t) => t.code)).toEqual(['ASSAY', 'ENDOTOXIN', 'STERILITY']);
    expect(r.labelApprovalRequired).toBe(true);
    expect(r.minShelfLifeDays).toBe(365);
    // Untouched keys inherit.
    expect(r.quantityTolerancePct).toBe(10);
    expect(r.stageDueDaysBeforeReceipt).toEqual(DEFAULT_READINESS_CONFIG.default.stageDueDaysBeforeReceipt);
  });

  it('applies the material over the family over the defaults', () => {
    const cfg: ReadinessConfig = {
      ...TEST_CONFIG,
      materials: {
        '000123': {
          tests: [{ code: 'ASSAY', specLow: 98, specHigh: 102, unit: '%' }],
          requiredDocuments: [],
          quantityTolerancePct: 2,
          stageDueDaysBeforeReceipt: { qa_review: 5, inspection: 1 },
        },
      },
    };
    const r = resolveRuleSet(cfg, { materialId: '000123', productFamily: 'oral-solid' });
    expect(r.tests).toEqual([{ code: 'ASSAY', specLow: 98, specHigh: 102, unit: '%' }]);
    expect(r.requiredDocuments).toEqual([]);
    expect(r.quantityTolerancePct).toBe(2);
    // Lead times merge stage by stage.
    expect(r.stageDueDaysBeforeReceipt).toEqual({ compounding: 28, filling: 21, packaging: 14, testing: 7, qa_review: 5, inspection: 1 });
    // Zero padding matters: '123' is another material.
    expect(resolveRuleSet(cfg, { materialId: '123', productFamily: 'oral-solid' }).quantityTolerancePct).toBe(10);
  });

  it('ignores prototype keys as family or material names', () => {
    const r = resolveRuleSet(TEST_CONFIG, { materialId: 'constructor', productFamily: '__proto__' });
    expect(r).toEqual(DEFAULT_READINESS_CONFIG.default);
  });

  it('hands out copies: changing a resolved rule set leaves the config alone', () => {
    const r = resolveRuleSet(TEST_CONFIG, { materialId: 'X', productFamily: 'oral-solid' });
    r.tests[0].specLow = 0;
    r.requiredStages.push('extra');
    r.stageDueDaysBeforeReceipt.testing = 99;
    const again = resolveRuleSet(TEST_CONFIG, { materialId: 'X', productFamily: 'oral-solid' });
    expect(again.tests[0].specLow).toBe(95);
    expect(again.requiredStages).not.toContain('extra');
    expect(again.stageDueDaysBeforeReceipt.testing).toBe(7);
  });

  it('keeps DEFAULT_READINESS_CONFIG frozen', () => {
    expect(Object.isFrozen(DEFAULT_READINESS_CONFIG.default.requiredStages)).toBe(true);
    expect(() => (DEFAULT_READINESS_CONFIG.default.requiredStages as string[]).push('x')).toThrow();
  });
});

describe('validateReadinessConfig', () => {
  it('accepts nothing at all and an empty mapping', () => {
    expect(validateReadinessConfig(undefined)).toEqual([]);
    expect(validateReadinessConfig(null)).toEqual([]);
    expect(validateReadinessConfig({})).toEqual([]);
    expect(validateReadinessConfig({ families: { 'oral-solid': null }, materials: null })).toEqual([]);
  });

  it('rejects a section that is not a mapping', () => {
    expect(validateReadinessConfig([1, 2])).toEqual([expect.stringMatching(/expected a mapping/)]);
    expect(validateReadinessConfig('x', 'readiness')[0]).toMatch(/^readiness: /);
  });

  it('names an unknown stage in stageDueDaysBeforeReceipt by its path, with a suggestion', () => {
    const problems = validateReadinessConfig({ default: { stageDueDaysBeforeReceipt: { qa_reveiw: 3, testing: 7 } } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^default\.stageDueDaysBeforeReceipt\.qa_reveiw: unknown stage 'qa_reveiw' \(did you mean 'qa_review'\?\)/);
  });

  it('accepts a lead time for a stage that some rule set requires', () => {
    expect(
      validateReadinessConfig({
        families: { bio: { requiredStages: ['compounding', 'viral_clearance'], stageDueDaysBeforeReceipt: { viral_clearance: 30 } } },
      }),
    ).toEqual([]);
  });

  it('reports bad test entries with their index', () => {
    const problems = validateReadinessConfig({
      families: {
        'oral-solid': {
          tests: [
            { code: 'ASSAY', specLow: 105, specHigh: 95 },
            { specHigh: 3 },
            'WATER',
            { code: 'DISSO', specLow: '80', limit: 3 },
            { code: 'assay' },
          ],
        },
      },
    });
    expect(problems).toEqual([
      'families.oral-solid.tests[0]: specLow 105 is above specHigh 95',
      'families.oral-solid.tests[1].code: expected a test code, got nothing',
      `families.oral-solid.tests[2]: expected { code, specLow?, specHigh?, unit? }, got string "WATER"`,
      'families.oral-solid.tests[3].limit: unknown test setting; allowed: code, specLow, specHigh, unit',
      'families.oral-solid.tests[3].specLow: expected a number, got string "80"',
      "families.oral-solid.tests[4].code: test 'assay' is listed twice",
    ]);
  });

  it('reports wrong types, unknown keys and bad document types', () => {
    const problems = validateReadinessConfig(
      {
        default: {
          requiredStages: 'compounding',
          requiredDocuments: ['coa', 'CoA', 'coa'],
          labelApprovalRequired: 'yes',
          minShelfLifeDays: -1,
          quantityTolerancePct: 'ten',
          requiredStage: [],
        },
        materials: { '000123': { minShelfLifeDays: 1.5 } },
        famillies: {},
      },
      'readiness',
    );
    expect(problems).toEqual([
      "readiness.famillies: unknown key (did you mean 'families'?); allowed: default, families, materials",
      "readiness.default.requiredStage: unknown setting (did you mean 'requiredStages'?); allowed: requiredStages, requiredDocuments, tests, labelApprovalRequired, minShelfLifeDays, quantityTolerancePct, stageDueDaysBeforeReceipt",
      'readiness.default.requiredStages: expected a list of stage names, got string "compounding"',
      `readiness.default.requiredDocuments[1]: unknown document type string "CoA" (did you mean 'coa'?); allowed: coa, batch_record, packaging_record, test_report, label_approval`,
      "readiness.default.requiredDocuments[2]: 'coa' is listed twice",
      'readiness.default.labelApprovalRequired: expected true or false, got string "yes"',
      'readiness.default.minShelfLifeDays: expected a whole number of days ≥ 0, got number -1',
      'readiness.default.quantityTolerancePct: expected a percentage ≥ 0, got string "ten"',
      'readiness.materials["000123"].minShelfLifeDays: expected a whole number of days ≥ 0, got number 1.5',
    ]);
  });

  it('reports non-integer lead times and a non-mapping family', () => {
    expect(validateReadinessConfig({ default: { stageDueDaysBeforeReceipt: { filling: 'two weeks' } }, families: { x: [1] } })).toEqual([
      'default.stageDueDaysBeforeReceipt.filling: expected a whole number of days ≥ 0, got string "two weeks"',
      'families.x: expected a mapping of rule settings, got a list',
    ]);
  });
});

describe('parseReadinessConfig', () => {
  it('fills keys missing from default with the built-in defaults', () => {
    const res = parseReadinessConfig({ default: { minShelfLifeDays: 90 }, families: { 'oral-solid': { tests: [{ code: ' ASSAY ', specLow: 95 }] } } });
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.config.default).toEqual({ ...DEFAULT_READINESS_CONFIG.default, minShelfLifeDays: 90 });
    expect(resolveRuleSet(res.config, { materialId: 'M', productFamily: 'oral-solid' }).tests).toEqual([{ code: 'ASSAY', specLow: 95 }]);
  });

  it('returns the problems instead of a config', () => {
    const res = parseReadinessConfig({ default: { minShelfLifeDays: 'a year' } });
    expect(res).toEqual({ ok: false, problems: ['default.minShelfLifeDays: expected a whole number of days ≥ 0, got string "a year"'] });
  });
});

const configYaml = fileURLToPath(new URL('../../config.yaml', import.meta.url));

describe.skipIf(!existsSync(configYaml))('config.yaml readiness section', () => {
  const raw = (parse(readFileSync(configYaml, 'utf8')) as { readiness?: unknown }).readiness;

  it('is valid', () => {
    expect(validateReadinessConfig(raw)).toEqual([]);
  });

  it('has the same defaults as DEFAULT_READINESS_CONFIG', () => {
    expect((raw as { default: unknown }).default).toEqual(DEFAULT_READINESS_CONFIG.default);
  });

  it('resolves every family it declares', () => {
    const res = parseReadinessConfig(raw);
    if (!res.ok) throw new Error(res.problems.join('\n'));
    for (const family of Object.keys(res.config.families)) {
      const r = resolveRuleSet(res.config, { materialId: 'ANY', productFamily: family });
      expect(r.requiredStages.length).toBeGreaterThan(0);
      for (const t of r.tests) expect(t.code).toMatch(/\S/);
    }
  });
});
