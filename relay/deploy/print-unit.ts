#!/usr/bin/env -S node --import tsx
// Prints the relay's systemd unit for this checkout; more relay flags follow `--`:
//   npm run --silent systemd-unit -- --announce /dns4/relay.example.org/tcp/443/wss > /etc/systemd/system/golem-clay-relay.service
import { resolve } from 'node:path'
import { renderSystemdUnit } from './systemd-unit.ts'

const appDir = resolve(new URL('../../', import.meta.url).pathname)
process.stdout.write(await renderSystemdUnit({ appDir, args: process.argv.slice(2) }))
