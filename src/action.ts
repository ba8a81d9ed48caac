// The action itself, bundled on its own (dist/action/index.js) and loaded by
// the small entry point once the compile cache is on.
import { run } from './main.js'

export async function main(): Promise<void> {
  try {
    await run()
  } catch (err) {
    console.error(`::error::kube-job-wait failed unexpectedly: ${(err as Error)?.message ?? err}`)
    process.exitCode = 1
  } finally {
    // Open sockets must not keep a finished (or cancelled) step alive.
    process.exit()
  }
}
