import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashSlots } from '../src/passwords/hash-slots.ts';
import { PasswordHasher } from '../src/passwords/password-hasher.ts';

/** A task that runs until its `finish` is called, recording when it started. */
function gatedTask(started: number[], id: number, fail = false) {
  let finish = (): void => {};
  const gate = new Promise<void>((resolve) => (finish = resolve));
  const task = async (): Promise<number> => {
    started.push(id);
    await gate;
    if (fail) throw new Error(`task ${id} failed`);
    return id;
  };
  return { task, finish: () => finish() };
}

test('never more hashes at once than slots; the rest start in arrival order', async () => {
  const slots = new HashSlots(2);
  const started: number[] = [];
  const tasks = [0, 1, 2, 3, 4].map((id) => gatedTask(started, id, id === 1));
  const results = tasks.map(({ task }) => slots.run(task).catch((error: unknown) => error));
  await Promise.resolve();
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(slots.load, { running: 2, waiting: 3 });

  tasks[1]!.finish(); // a failing hash gives its slot back too
  await results[1];
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(started, [0, 1, 2]);

  for (const { finish } of tasks) finish();
  const settled = await Promise.all(results);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.deepEqual(
    settled.filter((value) => typeof value === 'number'),
    [0, 2, 3, 4],
  );
  assert.match(String(settled[1]), /task 1 failed/);
  assert.deepEqual(slots.load, { running: 0, waiting: 0 });
});

test('a hasher limited to one slot still hashes and verifies many passwords at once', async () => {
  const hasher = new PasswordHasher(1);
  const hashes = await Promise.all(['first password', 'second password'].map((p) => hasher.hash(p)));
  const checks = await Promise.all([
    hasher.verify(hashes[0]!, 'first password'),
    hasher.verify(hashes[1]!, 'second password'),
    hasher.verify(hashes[0]!, 'second password'),
    hasher.verify('not a hash', 'first password'),
  ]);
  assert.deepEqual(checks, [true, true, false, false]);
});
