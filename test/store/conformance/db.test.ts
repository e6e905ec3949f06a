// The Db contract both drivers keep: placeholders, RETURNING, changes, transactions that roll
// back on rejection, savepoints, and transactions that keep other callers' statements out.

import { describe, expect, it } from 'vitest';
import { numberPlaceholders } from '../../../pipeline/store/dialect/postgres/driver.js';
import { describeStore } from './harness.js';

describe('numberPlaceholders', () => {
  it('numbers ? outside literals, quoted names and comments', () => {
    expect(numberPlaceholders(`SELECT '?', "a?" FROM t WHERE x = ? AND y = ? -- why?\nAND z = ?`)).toBe(`SELECT '?', "a?" FROM t WHERE x = $1 AND y = $2 -- why?\nAND z = $3`);
  });
});

describeStore('Db', (h) => {
  const setup = async () => {
    const s = await h.fresh();
    await s.db.exec('CREATE TABLE t_conf (id INTEGER PRIMARY KEY, v TEXT)');
    return s;
  };

  it('runs statements, returns rows, counts changes', async () => {
    const { db } = await setup();
    const ins = await db.run('INSERT INTO t_conf (id, v) VALUES (?, ?), (?, ?) RETURNING id', [1, 'a', 2, 'b']);
    expect(ins.changes).toBe(2);
    expect(ins.rows.map((r) => r.id)).toEqual([1, 2]);
    expect((await db.run('UPDATE t_conf SET v = ? WHERE id > ?', ['c', 0])).changes).toBe(2);
    expect(await db.get('SELECT v FROM t_conf WHERE id = ?', [2])).toEqual({ v: 'c' });
    expect(await db.get('SELECT v FROM t_conf WHERE id = ?', [9])).toBeUndefined();
    expect(await db.get<{ n: number }>('SELECT count(*) AS n FROM t_conf')).toEqual({ n: 2 });
  });

  it('commits a transaction, rolls back a rejected one, and a rejected savepoint alone', async () => {
    const { db } = await setup();
    await db.transaction(async (tx) => {
      expect(tx.inTransaction).toBe(true);
      await tx.run('INSERT INTO t_conf (id, v) VALUES (?, ?)', [1, 'kept']);
      await expect(
        tx.transaction(async (sp) => {
          await sp.run('INSERT INTO t_conf (id, v) VALUES (?, ?)', [2, 'undone']);
          throw new Error('inner');
        }),
      ).rejects.toThrow('inner');
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO t_conf (id, v) VALUES (?, ?)', [3, 'undone']);
        throw new Error('outer');
      }),
    ).rejects.toThrow('outer');
    expect(await db.all('SELECT id, v FROM t_conf ORDER BY id')).toEqual([{ id: 1, v: 'kept' }]);
  });

  it('another connection sees a transaction only once it commits', async () => {
    const a = await setup();
    const b = await h.another();
    let seenInside: unknown[] = ['not read'];
    await a.db.transaction(async (tx) => {
      await tx.run('INSERT INTO t_conf (id, v) VALUES (?, ?)', [1, 'x']);
      seenInside = await b.db.all('SELECT id FROM t_conf');
    });
    expect(seenInside).toEqual([]);
    expect(await b.db.all('SELECT id FROM t_conf')).toEqual([{ id: 1 }]);
  });

  it('a statement of another caller waits for the open transaction instead of joining it', async () => {
    const { db } = await setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const txDone = db.transaction(async (tx) => {
      await tx.run('INSERT INTO t_conf (id, v) VALUES (?, ?)', [1, 'tx']);
      await gate;
      throw new Error('rolled back');
    });
    const outside = db.run('INSERT INTO t_conf (id, v) VALUES (?, ?)', [2, 'outside']);
    release();
    await expect(txDone).rejects.toThrow('rolled back');
    await outside;
    expect(await db.all('SELECT id FROM t_conf ORDER BY id')).toEqual([{ id: 2 }]);
  });
});

describeStore('Db across connections', (h) => {
  it('a writer waiting for another connection\'s transaction does not stop the process; it goes on after the commit', async () => {
    const a = await h.fresh();
    await a.db.exec('CREATE TABLE t_wait (id INTEGER PRIMARY KEY, v TEXT)');
    const b = await h.another();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const first = a.db.transaction(async (tx) => {
      await tx.run('INSERT INTO t_wait (id, v) VALUES (?, ?)', [1, 'a']);
      entered();
      await gate;
    });
    await inside;
    const second = b.db.transaction(async (tx) => {
      await tx.run('INSERT INTO t_wait (id, v) VALUES (?, ?)', [2, 'b']);
    });
    // The event loop still turns while b waits for a's lock: timers fire, a can finish.
    await new Promise((r) => setTimeout(r, 20));
    release();
    await Promise.all([first, second]);
    expect(await b.db.all('SELECT id FROM t_wait ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
  });
});
