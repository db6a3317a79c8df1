import { assert, test } from "../harness/index";
import { FakeClock } from "../support/fake-clock";

test("fake clock: timers fire in deadline order at their trigger time", () => {
  const clock = new FakeClock();
  const seen: string[] = [];
  clock.set(() => seen.push(`b@${clock.monotonic()}`), 20);
  clock.set(() => seen.push(`a@${clock.monotonic()}`), 10);
  clock.advance(15);
  assert.deepEqual(seen, ["a@10"]);
  clock.advance(10);
  assert.deepEqual(seen, ["a@10", "b@20"]);
  assert.equal(clock.monotonic(), 25);
  assert.equal(clock.pending(), 0);
});

test("fake clock: a stall makes a repeating timer fire late once, then re-arm from then", () => {
  const clock = new FakeClock();
  const at: number[] = [];
  const id = clock.set(() => at.push(clock.monotonic()), 10, 10);
  clock.advance(20);
  clock.stall(35);
  clock.advance(10);
  assert.deepEqual(at, [10, 20, 55, 65]);
  clock.clear(id);
  clock.advance(100);
  assert.equal(at.length, 4);
});

test("fake clock: wall is NaN until set, then tracks monotonic", () => {
  const clock = new FakeClock(5);
  assert.ok(Number.isNaN(clock.wall()));
  clock.setWall(1_700_000_000_000);
  clock.advance(7);
  assert.equal(clock.wall(), 1_700_000_000_007);
  clock.clearWall();
  assert.ok(Number.isNaN(clock.wall()));
});

test("fake clock: schedule inside a callback overrides the repeat", () => {
  const clock = new FakeClock();
  const at: number[] = [];
  const id = clock.set(
    () => {
      at.push(clock.monotonic());
      clock.schedule(id, 3);
    },
    1,
    100,
  );
  clock.advance(10);
  assert.deepEqual(at, [1, 4, 7, 10]);
});
