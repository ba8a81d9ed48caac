// Stands in for @kubernetes/client-node's generated API (its dist/gen/index.js:
// every model and API class, about 3.7 MB of the bundle before minifying) in
// dist/gen/index.js. The bundler leaves client-node's `import ... from
// './gen/index.js'` as a real import (npm run bundle: -e ./gen/index.js) and
// this file is copied there. config.js, the only module of the bundle that
// imports it, uses createConfiguration and ServerConfiguration only in
// KubeConfig.makeApiClient, which this action never calls: requests go through
// src/kube/http.ts.
const absent = (name) => {
  throw new Error(`${name}: @kubernetes/client-node's generated API is not in this bundle (src/kube/gen-stub.js)`)
}

export function createConfiguration() {
  absent('createConfiguration')
}

export class ServerConfiguration {
  constructor() {
    absent('ServerConfiguration')
  }
}
