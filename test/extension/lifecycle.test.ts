import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Disposable, DisposableStore, disposeAll, toDisposable } from '../../src/extension/lifecycle.js';

test('a Disposable disposes what it registered, last first, once', () => {
  const order: string[] = [];
  class Owner extends Disposable {
    constructor() {
      super();
      this._register(toDisposable(() => order.push('a')));
      this._register(toDisposable(() => order.push('b')));
    }
    late(): void {
      this._register(toDisposable(() => order.push('late')));
    }
  }
  const owner = new Owner();
  owner.dispose();
  owner.dispose();
  assert.deepEqual(order, ['b', 'a']);
  owner.late();
  assert.deepEqual(order, ['b', 'a', 'late'], 'registered after disposal: disposed at once');
});

test('disposeAll disposes everything even when one throws, then rethrows', () => {
  const order: string[] = [];
  const items = [
    toDisposable(() => order.push('1')),
    toDisposable(() => {
      throw new Error('boom');
    }),
    toDisposable(() => order.push('3')),
  ];
  assert.throws(() => disposeAll(items), /boom/);
  assert.deepEqual(order, ['3', '1']);
  const store = new DisposableStore();
  let n = 0;
  store.add(toDisposable(() => n++));
  store.dispose();
  assert.equal(n, 1);
});
