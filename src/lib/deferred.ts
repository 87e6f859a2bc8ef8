// A promise with its resolve/reject handles, for results that arrive from callbacks (a tunnel that
// comes up, a connection that ends).
export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(value: T): void
  reject(err: Error): void
}

/** `quiet`: a rejection nobody awaits is not reported as unhandled (a close that may never be awaited). */
export function deferred<T>(quiet = false): Deferred<T> {
  let resolve!: (v: T) => void
  let reject!: (e: Error) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  if (quiet) promise.catch(() => {})
  return { promise, resolve, reject }
}
