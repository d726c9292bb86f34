import type { ApiClient } from '../../../src-main/shared/api'
import type { MenuCommand } from '../../../src-main/shared/menuCommands'
import { api } from '../api'

/** Hands each File menu command (native menu, desktop only) to `act` until the returned function is called. */
export function followMenuCommands(act: (command: MenuCommand) => void, client: ApiClient = api): () => void {
  return client.on('onMenuCommand', act)
}
