// The floor of figure 5: what reading a Job's pods costs at the least. It
// LISTs the pods of one Job and WATCHes them from the list's resourceVersion,
// over one HTTP/2 connection as ours and kubectl use, and does nothing with
// each event but JSON.parse it. It never ends by itself: the harness ends it
// (SIGTERM) once the Job has completed, as it ends `kubectl get pods --watch`.
// It reads the token, server and CA of the test cluster's kubeconfig with a
// regular expression (that file's own format, written by test/cluster/up.sh),
// so that no YAML parser or client library adds to the floor.
//
//   node bench/baselines/floor-watch.ts --namespace NS --uid JOB_UID
//
// Credentials: KUBECONFIG. Prints the number of events read on stderr when ended.
import * as fs from 'node:fs'
import * as http2 from 'node:http2'
import { parseArgs } from 'node:util'

const { values: a } = parseArgs({ options: { namespace: { type: 'string' }, uid: { type: 'string' } } })
if (!a.namespace || !a.uid || !process.env.KUBECONFIG) {
  console.error('usage: KUBECONFIG=FILE floor-watch.ts --namespace NS --uid JOB_UID')
  process.exit(2)
}
const config = fs.readFileSync(process.env.KUBECONFIG, 'utf8')
const field = (name: string): string => {
  const m = new RegExp(`${name}:\\s*(\\S+)`).exec(config)
  if (!m) throw new Error(`no ${name} in ${process.env.KUBECONFIG}`)
  return m[1]
}
const session = http2.connect(field('server'), { ca: Buffer.from(field('certificate-authority-data'), 'base64') })
const headers = { authorization: `Bearer ${field('token')}`, 'user-agent': 'kjw-bench-floor/1', accept: 'application/json' }
const selector = encodeURIComponent(`batch.kubernetes.io/controller-uid=${a.uid}`)
const base = `/api/v1/namespaces/${a.namespace}/pods?labelSelector=${selector}`
let events = 0

function request(path: string, onChunk: (text: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path, ...headers })
    req.setEncoding('utf8')
    req.on('response', (h) => {
      if (h[':status'] !== 200) reject(new Error(`${path}: HTTP ${h[':status']}`))
    })
    req.on('data', onChunk)
    req.on('end', resolve)
    req.on('error', reject)
  })
}

async function main(): Promise<void> {
  let body = ''
  await request(base, (t) => (body += t))
  const list = JSON.parse(body) as { metadata: { resourceVersion: string } }
  let rv = list.metadata.resourceVersion
  // A watch the API server closes (its timeout) is opened again from the last resourceVersion seen.
  for (;;) {
    let partial = ''
    await request(`${base}&watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`, (t) => {
      partial += t
      let nl: number
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl)
        partial = partial.slice(nl + 1)
        if (!line) continue
        const ev = JSON.parse(line) as { object: { metadata: { resourceVersion: string } } }
        rv = ev.object.metadata.resourceVersion
        events++
      }
    })
  }
}

process.on('SIGTERM', () => {
  console.error(`floor-watch: ${events} events`)
  process.exit(0)
})
main().catch((err: Error) => {
  console.error(`floor-watch: ${err.message}`)
  process.exit(2)
})
