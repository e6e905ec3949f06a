import { expect, it } from 'vitest';
import { describeStore } from './harness.js';

describeStore('audit probe', (h) => {
  it('two connections append concurrently', async () => {
    const a = await h.fresh();
    const b = await h.another();
    const one = (s: typeof a, i: number) => s.audit.appendAudit({ actor: 't', action: 'lot.readiness_changed' as never, details: { i } });
    await Promise.all([...Array.from({ length: 50 }, (_, i) => one(a, i)), ...Array.from({ length: 50 }, (_, i) => one(b, 100 + i))]);
    expect((await a.audit.auditHead()).seq).toBe(100);
    expect(await a.audit.verifyAudit()).toEqual({ ok: true, count: 100 });
  }, 60_000);
});
