// The PostgreSQL schema: the tables (base.ts), then each area's PostgreSQL-only parts (triggers,
// indexes), in area order. Together they are migration 1 of the PostgreSQL store (migrate.ts); later changes are appended there as new
// migrations, never by editing a fragment that has shipped.

import { SQL as base } from './base.js';
import { SQL as audit } from './audit.js';
import { SQL as auth } from './auth.js';
import { SQL as facts } from './facts.js';
import { SQL as jobs } from './jobs.js';
import { SQL as ledger } from './ledger.js';
import { SQL as masterdata } from './masterdata.js';
import { SQL as outbox } from './outbox.js';
import { SQL as pulls } from './pulls.js';
import { SQL as readiness } from './readiness.js';

export const INITIAL_SCHEMA = [base, ledger, masterdata, facts, readiness, audit, outbox, jobs, auth, pulls].join('\n');
