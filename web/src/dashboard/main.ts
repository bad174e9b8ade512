import { mount } from 'svelte'
import Dashboard from './Dashboard.svelte'
import 'uplot/dist/uPlot.min.css'
import './dashboard.css'

mount(Dashboard, { target: document.getElementById('dashboard') as HTMLElement })
