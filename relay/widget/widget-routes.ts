import { InvalidMessageError } from '../../shared/errors.ts'
import type { HttpRoute } from '../http/http-server.ts'
import type { WidgetBoard } from './widget-board.ts'

const ACCOUNT = /^0x[0-9a-fA-F]{40}$/

/** `GET /widget/stats?account=0x…`: what that account's widgets did, for the site owner's page. */
export function widgetRoutes (board: WidgetBoard): HttpRoute[] {
  return [{
    path: '/widget/stats',
    json: ({ query }) => {
      const account = query.get('account') ?? ''
      if (!ACCOUNT.test(account)) throw new InvalidMessageError('account must be an address: 0x and 40 hex digits')
      return board.stats(account)
    }
  }]
}
