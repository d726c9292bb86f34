import { createApiClient, type ApiClient } from '../../src-main/shared/api'

/** The typed API: the only module besides state/ that touches the bridge the preload exposes. */
export const api: ApiClient = createApiClient(window.lecternBridge)
