/**
 * Lifetimes, as in vscode-pull-request-github: an object that owns resources extends Disposable and
 * registers each one with `_register`, so disposing the owner disposes everything it created, in
 * reverse order. Structural (`{ dispose(): void }`), so it needs no 'vscode' import and the pure
 * parts of the extension can use it in tests.
 */
export interface IDisposable {
  dispose(): void;
}

export function toDisposable(dispose: () => void): IDisposable {
  let done = false;
  return {
    dispose: () => {
      if (done) return;
      done = true;
      dispose();
    },
  };
}

/** Disposes every item, last first; one that throws does not keep the others alive. */
export function disposeAll(items: IDisposable[]): void {
  const errors: unknown[] = [];
  for (const item of items.splice(0).reverse()) {
    try {
      item.dispose();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} disposables failed to dispose`);
}

export abstract class Disposable implements IDisposable {
  private readonly disposables: IDisposable[] = [];
  private disposed = false;

  protected get isDisposed(): boolean {
    return this.disposed;
  }

  /** Ties `value` to this object's lifetime; registered after disposal, it is disposed at once. */
  protected _register<T extends IDisposable>(value: T): T {
    if (this.disposed) value.dispose();
    else this.disposables.push(value);
    return value;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeAll(this.disposables);
  }
}

/** A bag of disposables for scopes that are not objects of their own (e.g. one engine process). */
export class DisposableStore extends Disposable {
  add<T extends IDisposable>(value: T): T {
    return this._register(value);
  }
}
