// Worker entry for development and tests: loads the TypeScript quantize worker through tsx. Never shipped.
import { register } from 'tsx/esm/api'

register()
await import('../workers/quantizeWorker.ts')
