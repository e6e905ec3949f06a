// The whole configuration schema, assembled where every part is known (the composition root):
// the core sections (pipeline/config/schema.ts) plus the sections of the jobs, the connectors and
// the notifications, and the checks a schema cannot make. `lotgate start`, `lotgate job …` and
// `lotgate config check|schema` use it; lighter commands check the core sections only.

import { JOBS } from '../../jobs/index.js';
import type { CheckOptions } from '../config/check.js';
import { CONNECTOR_CONFIG_SCHEMA, validateConnectorConfig } from '../outbound/connectors/connectors.js';
import { NOTIFICATIONS_CONFIG_SCHEMA } from '../outbound/notify/channels.js';
import { jobScheduleProblems } from '../scheduler/config.js';

export const FULL_CONFIG_CHECK: CheckOptions = {
  jobs: JOBS,
  connectors: CONNECTOR_CONFIG_SCHEMA,
  notifications: NOTIFICATIONS_CONFIG_SCHEMA,
  checks: [
    (raw) => jobScheduleProblems(raw, JOBS),
    // Duplicate names and secrets written inline (the schema covers the shape).
    (raw) => (Array.isArray(raw.connectors) ? validateConnectorConfig(raw.connectors).filter((p) => p.code !== 'E_CONFIG_INVALID') : []),
  ],
};
