// Everything the chaos run starts (servers, clients, mounts, the scratch folder) registers how
// to undo it here; the undo list runs newest first at the end of the run, on an uncaught error
// and on Ctrl-C / SIGTERM, so no redis-server, lotgate or tmpfs is left behind.

type Undo = () => Promise<void> | void;

const undos = new Map<number, { what: string; fn: Undo }>();
let nextId = 1;
let running: Promise<void> | null = null;

/** Registers an undo action; call the returned function once it is no longer needed. */
export function onCleanup(what: string, fn: Undo): () => void {
  const id = nextId++;
  undos.set(id, { what, fn });
  return () => {
    undos.delete(id);
  };
}

/** Runs every registered undo action, newest first; each failure is reported and skipped. */
export function runCleanup(log: (line: string) => void): Promise<void> {
  if (running) return running;
  running = (async () => {
    const list = [...undos.entries()].sort((a, b) => b[0] - a[0]);
    undos.clear();
    for (const [, u] of list) {
      try {
        await u.fn();
      } catch (e) {
        log(`cleanup: ${u.what}: ${(e as Error).message}`);
      }
    }
  })();
  return running;
}

/** Ctrl-C or a SIGTERM to the chaos run: clean up, then exit 130 / 143. */
export function cleanupOnSignals(log: (line: string) => void): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      log(`\n${sig}: stopping the servers and removing mounts …`);
      void runCleanup(log).finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
  }
}
