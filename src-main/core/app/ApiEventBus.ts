import type { ApiEventName, ApiEvents } from '../../shared/api.js'

export type ApiEventListener = <E extends ApiEventName>(event: E, payload: ApiEvents[E]) => void

/** Fan-out of contract events to whichever transports are attached (IPC windows, SSE clients, the CLI). */
export class ApiEventBus {
  private readonly listeners = new Set<ApiEventListener>()

  emit<E extends ApiEventName>(event: E, payload: ApiEvents[E]): void {
    for (const listener of this.listeners) {
      try {
        listener(event, payload)
      } catch (error) {
        console.error(`[lectern] event listener failed on ${event}:`, error)
      }
    }
  }

  subscribe(listener: ApiEventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
