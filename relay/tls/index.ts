export { tlsFiles, TlsFiles, TlsFilesError } from './tls-files.ts'
export type { SecureContextTarget, TlsCertificateInfo, TlsFilesEvents, TlsFilesInit } from './tls-files.ts'
export { secureWebSockets } from './secure-websockets.ts'
