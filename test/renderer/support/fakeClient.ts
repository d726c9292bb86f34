import type { Api, ApiClient, ApiEventName, ApiEvents } from '../../../src-main/shared/api'

export interface FakeClient {
  client: ApiClient
  /** Delivers an event to every listener registered through `client.on`. */
  emit<E extends ApiEventName>(event: E, payload: ApiEvents[E]): void
  listenerCount(event: ApiEventName): number
}

/** An ApiClient with only the given methods; any other method throws, so a test sees unexpected calls. */
export function fakeClient(methods: Partial<Api>): FakeClient {
  const listeners = new Map<ApiEventName, Set<(payload: never) => void>>()
  const on = (event: ApiEventName, listener: (payload: never) => void): (() => void) => {
    const set = listeners.get(event) ?? new Set()
    listeners.set(event, set)
    set.add(listener)
    return () => set.delete(listener)
  }
  const client = new Proxy({ on, ...methods } as Record<string, unknown>, {
    get: (target, name) =>
      name in target
        ? target[name as string]
        : () => Promise.reject(new Error(`unexpected call to ${String(name)}`)),
  })
  return {
    client: client as unknown as ApiClient,
    emit: (event, payload) => {
      for (const listener of listeners.get(event) ?? []) listener(payload as never)
    },
    listenerCount: (event) => listeners.get(event)?.size ?? 0,
  }
}

/** A promise with its resolve exposed, to hold a call open while events arrive. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}
