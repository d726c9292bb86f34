import jobWorkerPath from '../workers/jobWorker?modulePath'
import { runCli } from './runCli.js'

const exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  jobWorker: { workerScript: jobWorkerPath },
  onInterrupt(handler) {
    process.on('SIGINT', handler)
    return () => process.off('SIGINT', handler)
  },
})
process.exitCode = exitCode
