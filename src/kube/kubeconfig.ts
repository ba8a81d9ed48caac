// @kubernetes/client-node's KubeConfig, loaded from its dist/config.js rather
// than the package's index: the index also loads the generated API (every
// model and API class), which this action never calls, at a cost to start-up
// and to the bundle (npm run bundle replaces gen/index.js by
// src/kube/gen-stub.js). The one file of src/ that imports a path inside a
// package; __tests__/kubeconfig.test.ts fails when client-node moves it.
export { KubeConfig } from '@kubernetes/client-node/dist/config.js'
export type { Cluster, User } from '@kubernetes/client-node/dist/config_types.js'
