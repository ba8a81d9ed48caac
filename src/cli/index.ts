#!/usr/bin/env node
// The entry point of `kube-job-wait` and `kubectl-job_wait` (dist/cli/index.js):
// the process around main.ts, its signals and its exit code.
import { keepYoungGenerationSmall } from '../heap.js'
import { main } from './main.js'

keepYoungGenerationSmall()

const cancel = new AbortController()
// Ctrl-C or a CI's stop: the wait ends at once, the report is still written (exit 130).
process.once('SIGINT', () => cancel.abort())
process.once('SIGTERM', () => cancel.abort())
// A throw that escaped every handler is ours, not the Job's: exit 4 (error), never 1 (failed).
const crashed = (err: unknown) => {
  process.stderr.write(`kube-job-wait failed unexpectedly (a bug: please report it): ${(err as Error)?.message ?? err}\n`)
  process.exit(4)
}
process.on('uncaughtException', crashed)
process.on('unhandledRejection', crashed)

// No top-level await: the single executable (npm run sea) runs this file as CommonJS.
main({
  argv: process.argv.slice(2),
  program: process.argv[1],
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  cancelled: cancel.signal,
  exiting: true
}).then(exit, crashed)

// Open sockets must not keep a finished wait alive; stdout drained first (a pipe is asynchronous).
function exit(code: number): void {
  process.stdout.write('', () => process.exit(code))
}
