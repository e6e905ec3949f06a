// What each fault run hands back to chaos/run.ts for the comparison with the clean run.

import type { Snapshot } from '../report.js';
import type { ChaosFile } from '../lib/fileset.js';
import type { ChaosContext } from '../lib/harness.js';

export interface FaultOutcome {
  sent: ChaosFile[];
  snap: Snapshot;
  /** What happened (printed above the table). */
  notes: string[];
  /** Problems of the fault itself (slow shutdown, a failed resend …): count as discrepancies. */
  findings: string[];
  /** Data dir size at the end, bytes (the clean run's sizes the tmpfs of fault 4). */
  dataBytes?: number;
}

export interface FaultDef {
  id: number;
  name: string;
  /** Runs the fault; returns a reason string when it had to be skipped. */
  run: (ctx: ChaosContext, clean: FaultOutcome) => Promise<FaultOutcome | string>;
}
