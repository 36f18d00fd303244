// Disposal helper. node-seal 7 has no FinalizationRegistry: every embind object must be .delete()d or the wasm heap
// grows until std::bad_alloc (research/node-seal.md §6; deleteLater() never runs either). A Scope collects objects
// and deletes them in reverse order, so call sites never scatter .delete() calls.

export interface SealObject {
  delete(): void;
  isDeleted(): boolean;
}

export class Scope {
  #objects: SealObject[] = [];

  /** Registers `obj` for deletion when the scope ends and returns it. */
  track<T extends SealObject>(obj: T): T {
    this.#objects.push(obj);
    return obj;
  }

  /** Removes `obj` from the scope so it outlives it (the caller takes ownership). */
  release<T extends SealObject>(obj: T): T {
    const i = this.#objects.lastIndexOf(obj);
    if (i >= 0) this.#objects.splice(i, 1);
    return obj;
  }

  dispose(): void {
    const objects = this.#objects;
    this.#objects = [];
    for (let i = objects.length - 1; i >= 0; i--) {
      const obj = objects[i] as SealObject;
      if (!obj.isDeleted()) obj.delete();
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Runs `fn` with a fresh scope and deletes everything it tracked, whether `fn` returns or throws. */
export function withScope<T>(fn: (scope: Scope) => T): T {
  const scope = new Scope();
  try {
    return fn(scope);
  } finally {
    scope.dispose();
  }
}
