import jobWorkerPath from '../workers/jobWorker?modulePath'
import quantizeWorkerPath from '../workers/quantizeWorker?modulePath'
import { runCli } from './runCli.js'

// `lectern … | head` closes the pipe early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

const exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  jobWorker: { workerScript: jobWorkerPath },
  quantizeWorker: { workerScript: quantizeWorkerPath },
  onInterrupt(handler) {
    process.on('SIGINT', handler)
    return () => process.off('SIGINT', handler)
  },
})
process.exitCode = exitCode
