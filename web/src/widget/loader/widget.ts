// The loader a site adds with one tag: <script src="https://<relay>/widget.js" async></script>.
// It only defines <golem-clay-widget>; the node's code loads inside the relay's frame, after consent.
import { GolemClayWidget } from './widget-element.ts'

if (customElements.get('golem-clay-widget') == null) customElements.define('golem-clay-widget', GolemClayWidget)
