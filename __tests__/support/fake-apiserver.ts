// The fake API server lives in ./fake-apiserver/, split by concern (see its
// index.ts); this file keeps the import path every test uses.
export * from './fake-apiserver/index.js'
