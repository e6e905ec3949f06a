// Public surface of the readiness engine (all pure).
export { computeReadiness, READINESS_RULES } from './compute.js';
export { readinessChanged } from './diff.js';
export { evaluateResult, effectiveLimits, type Evaluation, type SpecLimits } from './evaluate-result.js';
export { computeLate, type LateResult } from './late.js';
export {
  CANONICAL_STAGES,
  DEFAULT_READINESS_CONFIG,
  parseReadinessConfig,
  resolveRuleSet,
  validateReadinessConfig,
  type ReadinessConfig,
  type RuleSetOverride,
} from './rule-set.js';
export type { Rule } from './rule.js';
