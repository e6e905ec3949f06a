// What every scenario gets and gives back.

export interface BenchContext {
  quick: boolean;
  /** Timed repetitions of each measurement (alternating lotgate / reference). */
  runs: number;
  seed: number;
  /** Scratch folder of this bench run; removed at the end unless --keep. */
  workDir: string;
  log: (line: string) => void;
  /** --profile: where lotgate children write their CPU profiles; null = not profiling. */
  profileDir: string | null;
  /** Filled by earlier scenarios for later ones (e.g. the seeded store of scenario 1). */
  shared: Map<string, unknown>;
}

export interface Side {
  /** Median wall-clock seconds of the timed runs. */
  medianSeconds: number;
  runsSeconds: number[];
  /** Highest peak RSS over the runs, MB. */
  peakRssMb: number | null;
  /** rows/s, MB/s, files/s, lots/s … computed from the median. */
  throughput?: { value: number; unit: string };
}

export interface ScenarioResult {
  id: number;
  name: string;
  /** Short description of the measured work, e.g. "1,000,000 rows, 104.2 MB". */
  workload: string;
  lotgate: Side | null;
  reference: (Side & { name: string }) | null;
  /** lotgate median ÷ reference median. */
  ratio: number | null;
  target: string;
  /** null = not evaluated (skipped, or not measurable in quick mode). */
  met: boolean | null;
  /** One-line outcome in the terms of the target ("p95 0.41 s", "RSS 212 MB at 1M and 4M"). */
  outcome: string;
  notes: string[];
  details: Record<string, unknown>;
}

export function side(runsSeconds: number[], peaks: (number | null)[], throughput?: (medianSeconds: number) => { value: number; unit: string }): Side {
  const sorted = [...runsSeconds].sort((a, b) => a - b);
  const m = sorted.length % 2 ? sorted[sorted.length >> 1] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const known = peaks.filter((p): p is number => p !== null);
  return {
    medianSeconds: m,
    runsSeconds,
    peakRssMb: known.length ? Math.max(...known) : null,
    ...(throughput ? { throughput: throughput(m) } : {}),
  };
}
